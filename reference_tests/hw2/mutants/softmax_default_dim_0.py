# part: softmax
# bug: softmax's dim defaults to 0, not -1: right whenever dim is passed


def softmax(a: torch.Tensor, dim: int = 0) -> torch.Tensor:
    shifted = a - a.amax(dim=dim, keepdim=True).detach()
    e = shifted.exp()
    return e / e.sum(dim=dim, keepdim=True)
