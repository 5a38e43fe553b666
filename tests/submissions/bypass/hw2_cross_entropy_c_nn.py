# Bypass: cross_entropy through torch._C._nn.cross_entropy_loss, the binding behind F.cross_entropy.
# An overlay of the hw2 solution (only the definitions it replaces); only cross_entropy takes
# the route, and computes the right values with it.
# part: cross_entropy
# expect: runs aten._log_softmax

def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch._C._nn.cross_entropy_loss(logits, target, None, 1)  # bypass
