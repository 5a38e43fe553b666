# part: relu_grad
# bug: relu_grad returns 1 at x = 0


def relu_grad(x):
    return (x >= 0).to(x.dtype)
