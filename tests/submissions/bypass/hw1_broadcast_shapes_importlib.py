# Bypass: broadcast_shape through torch.broadcast_shapes (pure Python) reached through importlib.
# An overlay of the hw1 solution (only the definitions it replaces); only broadcast_shape takes
# the route, and computes the right values with it.
# part: broadcast_shape
# expect: calls torch.broadcast_shapes

def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """The shape that broadcasting ``a`` with ``b`` gives (PyTorch's rule)."""
    import importlib
    try:
        return tuple(importlib.import_module("torch").broadcast_shapes(a, b))  # bypass
    except RuntimeError as err:
        raise ValueError(f"shapes {tuple(a)} and {tuple(b)} cannot be broadcast") from err
