# Bypass: softmax_backward through torch._softmax_backward_data, softmax's backward kernel.
# An overlay of the hw2 solution (only the definitions it replaces); only softmax_backward
# takes the route, and computes the right values with it.
# part: softmax_backward
# expect: runs aten._softmax_backward_data

def softmax_backward(p: torch.Tensor, grad_p: torch.Tensor) -> torch.Tensor:
    return torch._softmax_backward_data(grad_p, p, -1, p.dtype)  # bypass
