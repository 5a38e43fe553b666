# Bypass: tanh_grad through the autograd engine with the recorder's dispatch mode taken off
# torch's stack for the call (torch.utils._python_dispatch._pop_mode_temporarily), so the
# engine's backward pass runs unseen by it.
# An overlay of the hw2 solution (only the definitions it replaces); only tanh_grad takes the
# route, and computes the right values with it.
# part: tanh_grad
# expect: switches off the grader's recorder

def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    import contextlib

    from torch.autograd import Variable
    from torch.utils._python_dispatch import _pop_mode_temporarily

    recorded = torch._C._len_torch_dispatch_stack() > 0  # no recorder: nothing to hide from
    with _pop_mode_temporarily() if recorded else contextlib.nullcontext():  # bypass
        leaf = x.detach().requires_grad_(True)
        out = torch.tanh(leaf)
        (grad,) = Variable._execution_engine.run_backward(
            (out,), (torch.ones_like(out),), False, False, (leaf,), False, False)
    return grad
