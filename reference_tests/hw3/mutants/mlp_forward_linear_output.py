# part: mlp_forward
# bug: the last layer has no sigmoid: it returns the pre-activation O_prev @ W + b.


def mlp_forward(x: torch.Tensor, weights: list[torch.Tensor],
                biases: list[torch.Tensor]) -> list[torch.Tensor]:
    activations = [x]
    for i, (w, b) in enumerate(zip(weights, biases)):
        a = activations[-1] @ w + b
        activations.append(a if i == len(weights) - 1 else torch.sigmoid(a))
    return activations
