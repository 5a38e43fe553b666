# Bypass: rot90 through getattr(torch, "rot" + "90"), a name the source scan cannot see.
# An overlay of the hw6 solution (only the definitions it replaces); only rot90 takes the
# route, and computes the right values.
# part: rot90
# expect: runs aten.rot90

def rot90(x, k):
    return getattr(torch, "rot" + "90")(x, k, (2, 3))  # bypass
