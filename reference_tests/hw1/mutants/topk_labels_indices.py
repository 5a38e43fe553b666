# part: topk_labels
# bug: returns the class indices from topk instead of their labels


def topk_labels(prob: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """The labels of each row's ``k`` most probable classes, most probable first."""
    idx = prob.topk(k, dim=1).indices
    return idx
