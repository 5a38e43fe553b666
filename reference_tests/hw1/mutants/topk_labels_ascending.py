# part: topk_labels
# bug: returns the k most probable labels least probable first


def topk_labels(prob: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """The labels of each row's ``k`` most probable classes, most probable first."""
    idx = prob.topk(k, dim=1).indices.flip(1)
    return labels.unsqueeze(0).expand(prob.shape[0], -1).gather(1, idx)
