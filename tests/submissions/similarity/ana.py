"""hw2: activations, the softmax derivative, losses.

Fill in every function below; each one is a graded part. Run ``grade check hw2`` after each
function to see which parts are right and how the others differ from PyTorch.

General rules (see each docstring for the details):
- Inputs are ``torch.Tensor``s of float32 or float64, on the CPU or a GPU. Results keep the
  input's dtype and device (create new tensors with ``dtype=x.dtype, device=x.device``).
- Do not modify the inputs in place.
- No Python loops over tensor elements: the tests use sizes at which they run out of time.
- Gradients of your results are checked against autograd, so keep the computation in torch
  (no ``.item()``, ``.data``, ``.numpy()`` on values that need a gradient).
"""

from __future__ import annotations

import torch


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """The derivative of the sigmoid, element-wise: ``σ(x) (1 − σ(x))``.

    Args:
        x: any shape, float32 or float64.
    Returns:
        A tensor shaped like ``x``. It must not be nan for large ``|x|`` (try ``x = ±100``).
    Example:
        ``sigmoid_grad(torch.tensor([0.0]))`` is ``tensor([0.25])``.
    Forbidden: ``torch.autograd.*``, ``Tensor.backward``, ``torch.func.*``.
    """
    sig = x.sigmoid()
    return sig - sig * sig


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    """The derivative of tanh, element-wise: ``1 − tanh(x)²``.

    Args:
        x: any shape, float32 or float64.
    Returns:
        A tensor shaped like ``x``; ``tanh_grad(torch.tensor([0.0]))`` is ``tensor([1.])``.
    Forbidden: ``torch.autograd.*``, ``Tensor.backward``, ``torch.func.*``.
    """
    t = x.tanh()
    return 1.0 - t * t


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """The derivative of ReLU, element-wise: 1 where ``x > 0``, else 0.

    PyTorch's convention at exactly ``x = 0`` is 0, and so is ours.

    Args:
        x: any shape, float32 or float64.
    Returns:
        A tensor shaped like ``x`` with the dtype of ``x`` (not bool).
        ``relu_grad(torch.tensor([-1.0, 0.0, 2.0]))`` is ``tensor([0., 0., 1.])``.
    Forbidden: ``torch.autograd.*``, ``Tensor.backward``, ``torch.func.*``.
    """
    return torch.where(x > 0, torch.ones_like(x), torch.zeros_like(x))


def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Numerically stable softmax along ``dim``: ``exp(a_i) / Σ_j exp(a_j)``.

    Subtract the maximum along ``dim`` before ``exp`` (it does not change the result), so that
    ``softmax(torch.tensor([1000., 0.]))`` is ``tensor([1., 0.])``, never nan or inf.

    Args:
        a: any shape with at least one dimension, float32 or float64; logits may be ±1e4.
        dim: the dimension to normalise over.
    Returns:
        A tensor shaped like ``a`` whose slices along ``dim`` sum to 1. Its gradient (through
        autograd) is checked too.
    Forbidden: ``torch.softmax``, ``F.softmax``, ``F.log_softmax``, ``torch.log_softmax``,
    ``Tensor.softmax``, ``Tensor.log_softmax``, ``torch.special.softmax``.
    """
    m = a.max(dim=dim, keepdim=True).values
    z = torch.exp(a - m)
    return z / z.sum(dim=dim, keepdim=True)


def softmax_jacobian(a: torch.Tensor) -> torch.Tensor:
    """The Jacobian of softmax over the last dimension, batched over the leading ones.

    With ``p = softmax(a)``: ``J[..., i, j] = ∂p_i/∂a_j = p_i (δ_ij − p_j)``, that is
    ``diag(p) − p pᵀ`` for each row.

    Args:
        a: ``[..., N]`` logits, float32 or float64.
    Returns:
        ``[..., N, N]``. Example: for ``a = torch.zeros(2)``, ``p = [.5, .5]`` and
        ``J = [[.25, -.25], [-.25, .25]]``.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``.
    """
    probs = softmax(a, dim=-1)
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    return probs.unsqueeze(-1) * eye - probs.unsqueeze(-1) * probs.unsqueeze(-2)


def softmax_backward(p: torch.Tensor, grad_p: torch.Tensor) -> torch.Tensor:
    """Back-propagate through softmax without forming the Jacobian.

    Given the softmax output ``p`` and the upstream gradient ``grad_p = ∂L/∂p``, return
    ``∂L/∂a = Jᵀ grad_p = p * (grad_p − Σ_j grad_p_j p_j)`` (the sum over the last dim).

    Args:
        p: ``[..., N]``, a softmax output (rows sum to 1).
        grad_p: ``[..., N]``, same shape and dtype as ``p``.
    Returns:
        ``[..., N]``. One test uses an N so large that an N×N matrix does not fit in memory:
        build no Jacobian here.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``.
    """
    inner = torch.sum(p * grad_p, dim=-1, keepdim=True)
    return p * (grad_p - inner)


def linear_mse_grad(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                    b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient of the mean squared error of a linear model, by hand.

    ``L = mean((x @ w + b − y)²)`` (what ``F.mse_loss(x @ w + b, y)`` computes). With the
    residual ``r = x @ w + b − y`` of shape ``[N]``: ``∂L/∂w = 2 xᵀ r / N`` and
    ``∂L/∂b = 2 Σ r / N``.

    Args:
        x: ``[N, D]``; y: ``[N]``; w: ``[D]``; b: a 0-d tensor.
    Returns:
        ``(grad_w [D], grad_b 0-d)``.
    Forbidden: ``torch.autograd.*``, ``Tensor.backward``, ``torch.func.*``.
    """
    n = y.shape[0]
    err = x.matmul(w) + b - y
    grad_w = (2.0 / n) * x.t().matmul(err)
    grad_b = (2.0 / n) * err.sum()
    return grad_w, grad_b


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``logits`` against class indices, stable for large logits.

    ``L = mean_i(−log softmax(logits)[i, target_i])`` (what ``F.cross_entropy`` computes).
    Use ``log softmax(a) = a − max − log Σ exp(a − max)`` to stay finite for logits of 1e4.

    Args:
        logits: ``[N, C]``, float32 or float64.
        target: ``[N]`` int64 class indices in ``[0, C)``.
    Returns:
        A 0-d tensor; its gradient with respect to ``logits`` is checked too.
    Forbidden: ``F.cross_entropy``, ``F.nll_loss``, ``F.log_softmax``, ``torch.log_softmax``,
    ``Tensor.log_softmax``, ``nn.CrossEntropyLoss``, ``nn.NLLLoss``.
    """
    m = logits.max(dim=1, keepdim=True).values
    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))
    correct = logits[torch.arange(logits.shape[0], device=logits.device), target]
    return (lse - correct).mean()


def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The gradient of ``cross_entropy`` with respect to the logits, by hand.

    ``∂L/∂logits = (softmax(logits) − one_hot(target)) / N`` (mind the ``/ N`` of the mean).

    Args:
        logits: ``[N, C]``, float32 or float64.
        target: ``[N]`` int64 class indices.
    Returns:
        ``[N, C]``, shaped and typed like ``logits``.
    Forbidden: ``torch.autograd.*``, ``Tensor.backward``, ``torch.func.*``.
    """
    probs = softmax(logits, dim=1)
    rows = torch.arange(logits.shape[0], device=logits.device)
    one = torch.zeros_like(probs)
    one[rows, target] = 1.0
    return (probs - one) / logits.shape[0]
