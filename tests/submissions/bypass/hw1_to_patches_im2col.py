# Bypass: to_patches through torch._C._nn.im2col, the kernel under F.unfold.
# An overlay of the hw1 solution (only the definitions it replaces); only to_patches takes the
# route, and computes the right values with it.
# part: to_patches
# expect: runs aten.im2col

def to_patches(x, p):
    n, c, h, w = x.shape
    if h % p or w % p:
        raise ValueError(f"the image size ({h}, {w}) is not divisible by the patch size {p}")
    cols = torch._C._nn.im2col(x, (p, p), (1, 1), (0, 0), (p, p))  # bypass
    return cols.transpose(1, 2)
