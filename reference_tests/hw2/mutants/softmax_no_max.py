# part: softmax
# bug: softmax without subtracting the max: nan on large logits


def softmax(a, dim=-1):
    e = a.exp()
    return e / e.sum(dim=dim, keepdim=True)


# softmax_jacobian and cross_entropy_grad compute a stable softmax of their own, so the bug
# costs softmax alone.
def softmax_jacobian(a):
    e = (a - a.amax(dim=-1, keepdim=True)).exp()
    p = e / e.sum(dim=-1, keepdim=True)
    return torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)


def cross_entropy_grad(logits, target):
    e = (logits - logits.amax(dim=1, keepdim=True)).exp()
    p = e / e.sum(dim=1, keepdim=True)
    one_hot = torch.zeros_like(p).scatter_(1, target.unsqueeze(1), 1.0)
    return (p - one_hot) / logits.shape[0]
