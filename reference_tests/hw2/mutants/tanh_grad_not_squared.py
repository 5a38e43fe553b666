# part: tanh_grad
# bug: tanh_grad returns 1 - tanh(x), not squared


def tanh_grad(x):
    return 1 - torch.tanh(x)
