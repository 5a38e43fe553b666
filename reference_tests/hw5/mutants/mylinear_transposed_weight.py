# part: MyLinear
# bug: MyLinear stores w as [inp, outp] and computes x @ w + b.


class MyLinear(nn.Module):
    def __init__(self, inp: int, outp: int) -> None:
        super().__init__()
        bound = 1 / inp ** 0.5
        self.w = nn.Parameter(torch.empty(inp, outp).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(outp).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w + self.b
