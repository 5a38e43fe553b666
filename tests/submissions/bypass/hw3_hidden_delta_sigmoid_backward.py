# Bypass: hidden_delta through torch.ops.aten.sigmoid_backward, the sigmoid's backward kernel.
# An overlay of the hw3 solution (only the definitions it replaces); only hidden_delta takes
# the route, and computes the right values with it.
# part: hidden_delta
# expect: runs aten.sigmoid_backward

def hidden_delta(o: torch.Tensor, delta_next: torch.Tensor, w_next: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.sigmoid_backward(delta_next @ w_next.T, o)  # bypass


def mlp_backward(activations: list[torch.Tensor], weights: list[torch.Tensor],
                 target: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    # The deltas by hand here: this part must not reach the bypass through hidden_delta.
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
