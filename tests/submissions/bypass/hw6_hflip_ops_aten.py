# Bypass: hflip through torch.ops.aten.flip, the operator itself.
# An overlay of the hw6 solution (only the definitions it replaces); only hflip takes the
# route, and computes the right values.
# part: hflip
# expect: runs aten.flip

def hflip(x):
    return torch.ops.aten.flip(x, [3])  # bypass
