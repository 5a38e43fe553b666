# part: conv2d
# bug: conv2d never pads: the windows that hang over the edge are skipped, so the border of
#      the output keeps only the bias
"""hw5 in progress: conv2d_output_size and conv2d written, the rest not yet."""

import torch


def conv2d_output_size(h, w, kernel_size, stride=1, padding=0):
    return ((h + 2 * padding - kernel_size) // stride + 1,
            (w + 2 * padding - kernel_size) // stride + 1)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out, w_out = conv2d_output_size(h, w, kh, stride, padding)
    out = x.new_zeros(n, c_out, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            top, left = i * stride - padding, j * stride - padding
            if top < 0 or left < 0 or top + kh > h or left + kw > w:
                continue  # the window hangs over the edge: nothing there to multiply
            window = x[:, :, top:top + kh, left:left + kw]
            out[:, :, i, j] = torch.einsum("ncij,ocij->no", window, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
