# part: broadcast_shape
# bug: takes the larger size when two sizes differ instead of raising ValueError


def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """The shape that broadcasting ``a`` with ``b`` gives (PyTorch's rule)."""
    a, b = tuple(int(s) for s in a), tuple(int(s) for s in b)
    n = max(len(a), len(b))
    padded_a = (1,) * (n - len(a)) + a
    padded_b = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(padded_a, padded_b, strict=True):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            out.append(max(x, y))
    return tuple(out)
