# part: conv2d
# bug: conv2d flips the kernel (a true convolution), unlike PyTorch's cross-correlation.


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride: int = 1, padding: int = 0) -> torch.Tensor:
    kh, kw = weight.shape[-2:]
    if padding:
        x = F.pad(x, (padding, padding, padding, padding))
    # [N, Cin, H', W', kh, kw]: every window of the (padded) input, as a strided view.
    patches = x.unfold(2, kh, stride).unfold(3, kw, stride)
    out = torch.einsum("nchwij,ocij->nohw", patches, weight.flip(-2, -1))
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
