# Bypass: Flatten through torch._C._VariableFunctions.flatten, the builtin behind torch.flatten.
# An overlay of the hw5 solution (only the definitions it replaces); only Flatten takes the
# route, and computes the right values with it.
# part: Flatten
# expect: calls torch.flatten

class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch._C._VariableFunctions.flatten(x, 1)  # bypass
