# part: linear_mse_grad
# bug: linear_mse_grad without the factor 2


def linear_mse_grad(x, y, w, b):
    r = x @ w + b - y
    n = x.shape[0]
    return x.T @ r / n, r.sum() / n
