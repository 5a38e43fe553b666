# Case: global torch state changed by an otherwise correct submission (the solution).
# At import and at the end of several functions: default dtype float64, TF32 switched on
# through BOTH APIs (the legacy allow_tf32 flags and the fp32_precision properties; mixing
# them makes later reads of the legacy flags raise), set_num_threads(2),
# set_float32_matmul_precision("medium"), deterministic mode off (anomaly detection is left
# out: any torch.autograd call counts as a forbidden API in the parts that forbid autograd),
# a default device of "meta" is NOT used (it would break the student's own code).
# Must hold, at both levels: full marks: the executor sets the state again before every
# request and never reads the legacy TF32 flags.
import torch


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(x) ** 2


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:
    shifted = a - a.amax(dim=dim, keepdim=True).detach()
    e = shifted.exp()
    return e / e.sum(dim=dim, keepdim=True)


def softmax_jacobian(a: torch.Tensor) -> torch.Tensor:
    p = softmax(a, dim=-1)
    return torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)


def softmax_backward(p: torch.Tensor, grad_p: torch.Tensor) -> torch.Tensor:
    return p * (grad_p - (grad_p * p).sum(dim=-1, keepdim=True))


def linear_mse_grad(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                    b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    residual = x @ w + b - y
    n = x.shape[0]
    return 2 * x.T @ residual / n, 2 * residual.sum() / n


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    shifted = logits - logits.amax(dim=1, keepdim=True).detach()
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs.gather(1, target.unsqueeze(1)).mean()


def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = softmax(logits, dim=1)
    one_hot = torch.zeros_like(p).scatter_(1, target.unsqueeze(1), 1.0)
    return (p - one_hot) / logits.shape[0]


def _tamper(anomaly=False):
    torch.set_default_dtype(torch.float64)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    for obj in (torch.backends.cuda.matmul, torch.backends.cudnn, torch.backends.cudnn.conv,
                torch.backends.mkldnn):
        try:
            obj.fp32_precision = "tf32"
        except Exception:
            pass
    torch.set_float32_matmul_precision("medium")
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(False)


_tamper(anomaly=True)


def _tampering(fn):
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        _tamper()
        return out
    wrapper.__name__ = fn.__name__
    wrapper.__signature__ = __import__("inspect").signature(fn)
    return wrapper


sigmoid_grad = _tampering(sigmoid_grad)
softmax = _tampering(softmax)
cross_entropy = _tampering(cross_entropy)
