import torch


def _logsumexp(v, dim):
    top = v.amax(dim=dim, keepdim=True)
    return top + (v - top).exp().sum(dim=dim, keepdim=True).log()


def _probs(v, dim=-1):
    return (v - _logsumexp(v, dim)).exp()


def sigmoid_grad(x):
    return torch.sigmoid(x) * torch.sigmoid(-x)


def tanh_grad(x):
    return (1 - torch.tanh(x)) * (1 + torch.tanh(x))


def relu_grad(x):
    return torch.gt(x, 0).type_as(x)


def softmax(a, dim=-1):
    return _probs(a, dim)


def softmax_jacobian(a):
    p = _probs(a)
    outer = p[..., :, None] * p[..., None, :]
    return torch.diag_embed(p) - outer


def softmax_backward(p, grad_p):
    weighted = p * grad_p
    return weighted - p * weighted.sum(-1, keepdim=True)


def linear_mse_grad(x, y, w, b):
    scale = 2.0 / len(y)
    diff = torch.mv(x, w) + b - y
    return scale * torch.mv(x.T, diff), scale * diff.sum()


def cross_entropy(logits, target):
    log_p = logits - _logsumexp(logits, 1)
    return -log_p.gather(1, target.view(-1, 1)).mean()


def cross_entropy_grad(logits, target):
    n, c = logits.shape
    hot = (torch.arange(c, device=logits.device) == target[:, None]).to(logits.dtype)
    return (_probs(logits, 1) - hot) / n
