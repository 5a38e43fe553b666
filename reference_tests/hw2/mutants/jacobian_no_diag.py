# part: softmax_jacobian
# bug: the Jacobian without the diagonal term


def softmax_jacobian(a):
    e = (a - a.amax(dim=-1, keepdim=True)).exp()
    p = e / e.sum(dim=-1, keepdim=True)
    return -p.unsqueeze(-1) * p.unsqueeze(-2)
