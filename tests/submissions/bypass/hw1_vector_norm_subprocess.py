# Bypass: vector_norm computed by numpy.linalg.norm in a program started with subprocess, out
# of the recorder's process.
# An overlay of the hw1 solution (only the definitions it replaces); only vector_norm takes the
# route, and computes the right values with it.
# part: vector_norm
# expect: starts a program (subprocess)

def vector_norm(x: torch.Tensor, p: float, dim: int | None = None,
                keepdim: bool = False) -> torch.Tensor:
    """``(Σ |x|^p)^(1/p)`` over ``dim`` (every element when ``dim`` is None)."""
    import json
    import subprocess
    import sys

    code = ("import json, sys, numpy; a = json.load(sys.stdin); "
            "x = numpy.array(a['x'], dtype=numpy.float64).reshape(a['shape']); "
            "n = numpy.linalg.norm(x.ravel() if a['dim'] is None else x, a['p'], "
            "axis=a['dim'], keepdims=a['keepdim']); print(json.dumps(numpy.asarray(n).tolist()))")
    ask = json.dumps({"x": x.detach().flatten().tolist(), "shape": list(x.shape), "p": p,
                      "dim": dim, "keepdim": keepdim})
    done = subprocess.run([sys.executable, "-c", code], input=ask, capture_output=True,  # bypass
                          text=True, check=True)
    own = x.abs().pow(p).sum(dim=dim, keepdim=keepdim).pow(1.0 / p)  # the judge's gradient
    value = torch.tensor(json.loads(done.stdout), dtype=x.dtype, device=x.device)
    value = value.reshape(own.shape)
    return own + (value - own.detach())
