# part: evaluate
# bug: runs the model with gradients enabled, building a graph


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             batch_size: int) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` over all of ``(x, y)``, in eval mode, no graph."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    try:
        with torch.enable_grad():
            for start in range(0, x.shape[0], batch_size):
                logits = model(x[start:start + batch_size])
                target = y[start:start + batch_size]
                loss_sum += float(F.cross_entropy(logits, target, reduction="sum"))
                correct += int((logits.argmax(dim=1) == target).sum())
    finally:
        model.train(was_training)
    return loss_sum / x.shape[0], correct / x.shape[0]
