# part: perceptron_grad
# bug: the gradient is (O - t) O (1 - O) for every weight: the factor x_j is missing.


def perceptron_grad(x: torch.Tensor, w: torch.Tensor, t: float) -> torch.Tensor:
    o = torch.sigmoid(x @ w)
    return ((o - t) * o * (1 - o)).expand_as(w).clone()
