# part: accuracy
# bug: returns a 0-d tensor instead of a Python float


def accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == target).to(logits.dtype).mean()
