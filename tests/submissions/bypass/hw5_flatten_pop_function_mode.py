# Bypass: Flatten through torch.flatten with the recorder's function mode taken off torch's
# stack for the call and put back (its dispatch mode sees only aten.view).
# An overlay of the hw5 solution (only the definitions it replaces); only Flatten takes the
# route, and computes the right values with it.
# part: Flatten
# expect: switches off the grader's recorder

class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch._C._len_torch_function_stack():  # no recorder: nothing to hide from
            return torch.flatten(x, 1)
        mode = torch._C._pop_torch_function_stack()
        try:
            return torch.flatten(x, 1)  # bypass
        finally:
            torch._C._push_on_torch_function_stack(mode)
