# Bypass: MyLinear through torch._C._nn.linear, the builtin behind F.linear.
# An overlay of the hw5 solution (only the definitions it replaces); only MyLinear takes the
# route, and computes the right values with it.
# part: MyLinear
# expect: calls torch.nn.functional.linear

class MyLinear(nn.Module):
    def __init__(self, inp: int, outp: int) -> None:
        super().__init__()
        bound = 1 / inp ** 0.5
        self.w = nn.Parameter(torch.empty(outp, inp).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(outp).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch._C._nn.linear(x, self.w, self.b)  # bypass
