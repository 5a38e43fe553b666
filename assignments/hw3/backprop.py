"""hw3: back-propagation by hand.

Fill in every function below; each one is a graded part. Run ``grade check hw3`` after each
function to see which parts are right and how the others differ from PyTorch.

Conventions of the notes, used everywhere in this file:
- A layer is ``O = σ(O_prev @ W + b)``: ``W`` has shape ``[J, K]`` (row ``j``, column ``k``
  is ``w_jk``, the weight from unit ``j`` of the previous layer to unit ``k``), ``b`` has
  shape ``[K]``, and every activation ``σ`` is the sigmoid, whose derivative is
  ``σ'(a) = O (1 − O)``.
- The error is ``E = ½ Σ_batch Σ_k (O_k − t_k)²``: SUMMED over the batch, not averaged.
- The delta of a unit is ``δ = ∂E/∂a``, the derivative with respect to its pre-activation
  ``a`` (the input of its sigmoid).

General rules:
- Inputs are ``torch.Tensor``s of float32 or float64, on the CPU or a GPU, unless stated.
  Results keep the input's dtype and device.
- Do not modify the inputs in place.
- No Python loops over tensor elements (a loop over layers or over descent steps is fine).
- Forbidden in EVERY function of this homework: ``torch.autograd.*``, ``torch.func.*`` and
  ``Tensor.backward``. The point is to derive the gradients yourself.
"""

from __future__ import annotations

import torch


def perceptron_grad(x: torch.Tensor, w: torch.Tensor, t: float) -> torch.Tensor:
    """The gradient of a single-output perceptron's error with respect to its weights.

    ``O = σ(x · w)``, ``E = ½ (O − t)²``, so ``∂E/∂w_j = (O − t) O (1 − O) x_j``.

    Args:
        x: ``[D]`` input, float32 or float64.
        w: ``[D]`` weights, same dtype as ``x``.
        t: the target, a Python float.
    Returns:
        ``[D]``, shaped and typed like ``w``.
    Example:
        ``x = [1., 2.]``, ``w = [0., 0.]``, ``t = 1.``: ``O = 0.5``, so the result is
        ``(0.5 − 1)·0.5·0.5·x = [-0.125, -0.25]``.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``, ``Tensor.backward``.
    """
    raise NotImplementedError


def output_delta(o: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The deltas of the output layer: ``δ_k = O_k (1 − O_k)(O_k − t_k)``.

    This is ``∂E/∂a_k`` for ``E = ½ Σ (O_k − t_k)²`` and ``O_k = σ(a_k)``.

    Args:
        o: ``[B, K]`` outputs of the last layer (values in ``(0, 1)``).
        t: ``[B, K]`` targets, same dtype as ``o``.
    Returns:
        ``[B, K]``. Example: ``o = [[0.5]]``, ``t = [[1.]]`` gives ``[[-0.125]]``.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``, ``Tensor.backward``.
    """
    raise NotImplementedError


def hidden_delta(o: torch.Tensor, delta_next: torch.Tensor, w_next: torch.Tensor) -> torch.Tensor:
    """The deltas of a hidden layer from those of the layer above it.

    ``δ_j = O_j (1 − O_j) Σ_k δ_k w_jk``, for every example of the batch.

    Args:
        o: ``[B, J]`` activations of this hidden layer.
        delta_next: ``[B, K]`` deltas of the next layer.
        w_next: ``[J, K]`` weights from this layer to the next (row ``j`` to unit ``k``).
    Returns:
        ``[B, J]``. Example: ``o = [[0.5, 0.5]]``, ``delta_next = [[1.]]``,
        ``w_next = [[2.], [4.]]`` gives ``[[0.5, 1.0]]``.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``, ``Tensor.backward``.
    """
    raise NotImplementedError


def mlp_forward(x: torch.Tensor, weights: list[torch.Tensor],
                biases: list[torch.Tensor]) -> list[torch.Tensor]:
    """The forward pass of a sigmoid MLP, keeping every layer's activations.

    ``O⁰ = x`` and ``O^l = σ(O^(l−1) @ W^l + b^l)`` for ``l = 1 … L``.

    Args:
        x: ``[B, D0]`` inputs.
        weights: L tensors, ``weights[l]`` of shape ``[D_l, D_(l+1)]``.
        biases: L tensors, ``biases[l]`` of shape ``[D_(l+1)]``.
    Returns:
        The list ``[x, O¹, …, O^L]`` (length L + 1; its first item is the input).
        Example: ``x = [[0.]]``, ``weights = [[[1.]]]``, ``biases = [[0.]]`` gives
        ``[[[0.]], [[0.5]]]``.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``, ``Tensor.backward``.
    """
    raise NotImplementedError


def mlp_backward(activations: list[torch.Tensor], weights: list[torch.Tensor],
                 target: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Back-propagation: the gradients of ``E`` for every layer's weights and biases.

    Start from the output deltas (``output_delta``), go down through the hidden layers
    (``hidden_delta`` with the weights of the layer above), and for each layer ``l``:
    ``∂E/∂W^l = (O^(l−1))ᵀ δ^l`` and ``∂E/∂b^l = Σ_batch δ^l``.
    ``E = ½ Σ_batch Σ_k (O_k − t_k)²`` is a sum over the batch: do not divide by B.

    Args:
        activations: ``[x, O¹, …, O^L]`` as returned by ``mlp_forward``.
        weights: the L weight matrices, ``[D_l, D_(l+1)]`` each.
        target: ``[B, D_L]``.
    Returns:
        ``(grad_weights, grad_biases)``: two lists of L tensors, shaped like the weights and
        the biases (``[D_(l+1)]``), in layer order (first layer first).
    Example:
        One layer, ``x = [[1.]]``, ``W = [[0.]]``, ``b = [0.]``, ``target = [[1.]]``:
        ``O¹ = 0.5``, ``δ = -0.125``, so the result is ``([[[-0.125]]], [[-0.125]])``.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``, ``Tensor.backward``.
    """
    raise NotImplementedError


def himmelblau(p: torch.Tensor) -> torch.Tensor:
    """Himmelblau's function ``f(x, y) = (x² + y − 11)² + (x + y² − 7)²`` at ``p = (x, y)``.

    Args:
        p: ``[2]``, float32 or float64.
    Returns:
        A 0-d tensor. Example: ``himmelblau(torch.tensor([3., 2.]))`` is ``tensor(0.)`` and
        ``himmelblau(torch.tensor([0., 0.]))`` is ``tensor(170.)``.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``, ``Tensor.backward``.
    """
    raise NotImplementedError


def himmelblau_grad(p: torch.Tensor) -> torch.Tensor:
    """The analytic gradient of ``himmelblau`` at ``p``.

    ``∂f/∂x = 4x (x² + y − 11) + 2 (x + y² − 7)`` and
    ``∂f/∂y = 2 (x² + y − 11) + 4y (x + y² − 7)``.

    Args:
        p: ``[2]``, float32 or float64.
    Returns:
        ``[2]``, typed like ``p``. Example: at ``(0, 0)`` it is ``tensor([-14., -22.])``; at
        the minimum ``(3, 2)`` it is zero.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``, ``Tensor.backward``.
    """
    raise NotImplementedError


def descend(p0: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """Plain gradient descent on ``himmelblau``: ``steps`` times ``p ← p − lr ∇f(p)``.

    Use your ``himmelblau_grad``. Do not modify ``p0`` in place.

    Args:
        p0: ``[2]`` starting point, float32 or float64.
        lr: the learning rate (the tests use values around 0.01).
        steps: the number of steps (0 returns ``p0``'s value).
    Returns:
        ``[2]``, the point after ``steps`` steps, typed like ``p0``. From ``(0, 0)`` with
        ``lr = 0.01`` and a few hundred steps it reaches the minimum ``(3, 2)``; the four
        minima are ``(3, 2)``, ``(−2.805118, 3.131312)``, ``(−3.779310, −3.283186)`` and
        ``(3.584428, −1.848126)``.
    Forbidden: ``torch.autograd.*``, ``torch.func.*``, ``Tensor.backward``.
    """
    raise NotImplementedError
