# part: hidden_delta
# bug: w_next is reshaped to [K, J] instead of transposed, so the sum over k mixes the weights.


def hidden_delta(o: torch.Tensor, delta_next: torch.Tensor, w_next: torch.Tensor) -> torch.Tensor:
    return o * (1 - o) * (delta_next @ w_next.reshape(w_next.shape[1], w_next.shape[0]))


# mlp_backward computes its deltas itself, so the bug costs hidden_delta alone.
def mlp_backward(activations: list[torch.Tensor], weights: list[torch.Tensor],
                 target: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    n_layers = len(weights)
    grad_weights: list[torch.Tensor] = [None] * n_layers  # type: ignore[list-item]
    grad_biases: list[torch.Tensor] = [None] * n_layers  # type: ignore[list-item]
    delta = output_delta(activations[-1], target)
    for layer in range(n_layers - 1, -1, -1):
        grad_weights[layer] = activations[layer].T @ delta
        grad_biases[layer] = delta.sum(dim=0)
        if layer > 0:
            o = activations[layer]
            delta = o * (1 - o) * (delta @ weights[layer].T)
    return grad_weights, grad_biases
