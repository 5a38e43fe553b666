# part: add_channel_bias
# bug: gives bias the shape [C, 1], which lines it up with H instead of C


def add_channel_bias(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x [B, C, H, W] + bias [C]``, one bias per channel."""
    return x + bias.unsqueeze(1)
