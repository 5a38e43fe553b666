# part: broadcast_shape
# bug: pads the shorter shape on the right, so the shapes are aligned from the first dimension


def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """The shape that broadcasting ``a`` with ``b`` gives (PyTorch's rule)."""
    a, b = tuple(int(s) for s in a), tuple(int(s) for s in b)
    n = max(len(a), len(b))
    padded_a = a + (1,) * (n - len(a))
    padded_b = b + (1,) * (n - len(b))
    out = []
    for x, y in zip(padded_a, padded_b, strict=True):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError(f"shapes {a} and {b} cannot be broadcast: sizes {x} and {y} "
                             "differ and neither is 1")
    return tuple(out)
