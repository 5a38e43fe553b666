# part: output_delta
# bug: output_delta forgets the O(1 - O) factor and returns O - t.


def output_delta(o: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return o - t


# mlp_backward computes its deltas itself, so the bug costs output_delta alone.
def mlp_backward(activations: list[torch.Tensor], weights: list[torch.Tensor],
                 target: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    n_layers = len(weights)
    grad_weights: list[torch.Tensor] = [None] * n_layers  # type: ignore[list-item]
    grad_biases: list[torch.Tensor] = [None] * n_layers  # type: ignore[list-item]
    o = activations[-1]
    delta = o * (1 - o) * (o - target)
    for layer in range(n_layers - 1, -1, -1):
        grad_weights[layer] = activations[layer].T @ delta
        grad_biases[layer] = delta.sum(dim=0)
        if layer > 0:
            delta = hidden_delta(activations[layer], delta, weights[layer])
    return grad_weights, grad_biases
