# part: mlp_backward
# bug: the gradients are averaged over the batch (divided by B) instead of summed.


def mlp_backward(activations: list[torch.Tensor], weights: list[torch.Tensor],
                 target: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    n_layers = len(weights)
    grad_weights: list[torch.Tensor] = [None] * n_layers  # type: ignore[list-item]
    grad_biases: list[torch.Tensor] = [None] * n_layers  # type: ignore[list-item]
    delta = output_delta(activations[-1], target)
    for layer in range(n_layers - 1, -1, -1):
        batch = delta.shape[0]
        grad_weights[layer] = activations[layer].T @ delta / batch
        grad_biases[layer] = delta.mean(dim=0)
        if layer > 0:
            delta = hidden_delta(activations[layer], delta, weights[layer])
    return grad_weights, grad_biases
