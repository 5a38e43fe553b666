"""Torch-built references for hw3 (public: they use PyTorch and autograd only, never the
solutions). Every gradient here comes from autograd, so a hand derivation is checked against
what PyTorch computes for the same error ``E = ½ Σ_batch Σ_k (O_k − t_k)²``."""

from __future__ import annotations

import math

import torch

from grader.errors import StudentFailure
from grader.judge.compare import Mismatch, assert_close, tolerance

MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))
"""The four minima of Himmelblau's function (to six decimals)."""

SIGMOID_HINT = "did you multiply by O(1-O)?"
PERCEPTRON_HINT = "dE/dw_j = (O - t) O(1 - O) x_j: did you multiply by O(1-O) and by x_j?"
SUM_HINT = "E is summed over the batch, not averaged: do not divide by the batch size"


def error(o: torch.Tensor, t) -> torch.Tensor:
    """The notes' error: half the squared difference, summed over everything."""
    return 0.5 * ((o - t) ** 2).sum()


def perceptron_grad(x: torch.Tensor, w: torch.Tensor, t: float) -> torch.Tensor:
    w = w.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(error(torch.sigmoid(x.detach() @ w), t), w)
    return g


def output_delta(o: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``∂E/∂a`` by autograd, with the pre-activation ``a = logit(o)``."""
    a = torch.logit(o.detach()).requires_grad_(True)
    (g,) = torch.autograd.grad(error(torch.sigmoid(a), t), a)
    return g


def output_delta_formula(o: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return (o - t) * o * (1.0 - o)


def hidden_delta(o: torch.Tensor, delta_next: torch.Tensor, w_next: torch.Tensor) -> torch.Tensor:
    """``∂E/∂a_j`` by autograd: ``a_next = σ(a) @ w_next`` has upstream gradient ``delta_next``."""
    a = torch.logit(o.detach()).requires_grad_(True)
    # the gradient of a scalar, sum(a_next * delta_next): the same VJP without the
    # grad_outputs path, which imports sympy (half a second) on first use
    (g,) = torch.autograd.grad(((torch.sigmoid(a) @ w_next) * delta_next).sum(), a)
    return g


def mlp_forward(x: torch.Tensor, weights, biases) -> list[torch.Tensor]:
    outs = [x]
    for layer_w, layer_b in zip(weights, biases):
        outs.append(torch.sigmoid(torch.addmm(layer_b, outs[-1], layer_w)))
    return outs


def mlp_grads(x: torch.Tensor, weights, biases, target: torch.Tensor):
    """``(grad_weights, grad_biases)`` of E by autograd, in float64."""
    ws = [w.detach().to(torch.float64).requires_grad_(True) for w in weights]
    bs = [b.detach().to(torch.float64).requires_grad_(True) for b in biases]
    out = mlp_forward(x.detach().to(torch.float64), ws, bs)[-1]
    grads = torch.autograd.grad(error(out, target.detach().to(torch.float64)), ws + bs)
    return list(grads[:len(ws)]), list(grads[len(ws):])


def random_mlp(sizes, batch: int, rng: torch.Generator, dtype=torch.float64):
    """Inputs, weights, biases and targets of a sigmoid MLP with layer widths ``sizes``."""
    x = torch.randn(batch, sizes[0], generator=rng, dtype=torch.float64)
    weights = [torch.randn(j, k, generator=rng, dtype=torch.float64) / math.sqrt(j)
               for j, k in zip(sizes[:-1], sizes[1:])]
    biases = [torch.randn(k, generator=rng, dtype=torch.float64) * 0.5 for k in sizes[1:]]
    target = torch.rand(batch, sizes[-1], generator=rng, dtype=torch.float64)
    return (x.to(dtype), [w.to(dtype) for w in weights], [b.to(dtype) for b in biases],
            target.to(dtype))


def himmelblau(p: torch.Tensor) -> torch.Tensor:
    u, v = p.unbind()
    return (u * u + v - 11).pow(2) + (u + v * v - 7).pow(2)


def himmelblau_grad(p: torch.Tensor) -> torch.Tensor:
    p = p.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(himmelblau(p), p)
    return g


def descend(p0: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """The reference trajectory's end, with autograd's gradient, in float64."""
    point = p0.detach().to(torch.float64)
    for _step in range(steps):
        point = point - himmelblau_grad(point) * lr
    return point


def assert_near_minimum(p: torch.Tensor, p0: torch.Tensor, lr: float, steps: int,
                        within: float = 1e-3) -> None:
    """Raise a Mismatch unless ``p`` lies within ``within`` of one of the four minima."""
    start = ", ".join(f"{float(v):g}" for v in p0)
    if not isinstance(p, torch.Tensor) or tuple(p.shape) != (2,):
        return  # the comparison with the reference reports the type or shape
    xy = [float(v) for v in p.detach().to(torch.float64).cpu()]
    if not all(math.isfinite(v) for v in xy):
        raise Mismatch("values", f"descend from ({start}) with lr={lr}, steps={steps} ended at "
                       f"({xy[0]:g}, {xy[1]:g}), not a finite point; hint: step against the "
                       "gradient, p - lr * grad", details={"nonfinite": 1})
    best = min(MINIMA, key=lambda m: math.dist(m, xy))
    dist = math.dist(best, xy)
    if dist > within:
        raise Mismatch("values", f"descend from ({start}) with lr={lr}, steps={steps} ended at "
                       f"({xy[0]:.6g}, {xy[1]:.6g}), {dist:.3g} away from the nearest minimum "
                       f"({best[0]:g}, {best[1]:g}); it should end within {within:g} of one of "
                       "the four minima; hint: step against the gradient, p - lr * grad, and "
                       "check himmelblau_grad")


def values_hint(text: str):
    """A hint shown when the values differ (finite but wrong)."""
    return lambda m: text if m.stage == "values" and "nonfinite" not in m.details else None


def batch_hint(batch: int, otherwise: str | None = SIGMOID_HINT):
    """Points at averaging when the student's values are the expected ones divided by
    ``batch``; otherwise at ``otherwise``."""

    def hint(m) -> str | None:
        if m.stage != "values" or "nonfinite" in m.details:
            return None
        got, want = m.details.get("got"), m.details.get("expected")
        if batch > 1 and got is not None and want and \
                abs(got * batch - want) <= 1e-3 * abs(want):
            return SUM_HINT
        return otherwise

    return hint


DESCEND_HINT = "each step is p <- p - lr * himmelblau_grad(p)"


def _xy(p: torch.Tensor) -> str:
    return "(" + ", ".join(f"{float(v):.6g}" for v in p) + ")"


def _close(got: torch.Tensor, want: torch.Tensor, profile: str, dtype: torch.dtype) -> bool:
    tol = tolerance(profile, dtype, want)
    return bool(((got - want).abs() <= tol.atol + tol.rtol * want.abs()).all())


def _left_on_the_way(visited, end: torch.Tensor, p0: torch.Tensor, lr: float, steps: int):
    """The first step at which the points descend visited (then its end) leave the
    reference trajectory from ``p0``: ``(k, before, got, expected)``, or None."""
    points = [*visited.to(torch.float64), end.to(torch.float64)]
    reference = p0.detach().to(torch.float64)
    for k in range(1, steps + 1):
        before, reference = reference, descend(reference, lr, 1)
        if not _close(points[k], reference, "loose", p0.dtype):
            return k, before, points[k], reference
    return None


def first_wrong_step(student, p0: torch.Tensor, lr: float, steps: int,
                     end: torch.Tensor | None):
    """Where the student's trajectory leaves the reference's: ``(k, before, got, expected)``
    for the first wrong step, ``(None, end of the single steps, None, None)`` when every
    single step is right, None when the harness could not tell.

    The harness records the points at which descend asks for the student's himmelblau_grad;
    when it asks once per step, that is the trajectory itself. Otherwise each single step
    ``descend(p, lr, 1)``, from the student's own previous point, is compared with one step
    of the reference from that point."""
    try:
        seen = student.harness("descend_steps", p0, lr, steps).value
    except StudentFailure:
        return None
    visited, points = (seen.get("visited"), seen.get("single")) if isinstance(seen, dict) \
        else (None, None)
    if isinstance(visited, torch.Tensor) and visited.shape == (steps, 2) and \
            isinstance(end, torch.Tensor) and end.shape == (2,):
        found = _left_on_the_way(visited, end, p0, lr, steps)
        if found is not None:
            return found
    if not isinstance(points, torch.Tensor) or points.dim() != 2 or points.shape[0] < 1:
        return None
    for k in range(1, points.shape[0]):
        before = points[k - 1].to(torch.float64)
        got, want = points[k].to(torch.float64), descend(before, lr, 1)
        if not _close(got, want, "accumulate", p0.dtype):
            return k, before, got, want
    if points.shape[0] <= steps:  # a single step did not return a point
        return points.shape[0], points[-1].to(torch.float64), None, None
    return None, points[-1].to(torch.float64), None, None


def with_trajectory(student, mismatch: Mismatch, p0: torch.Tensor, lr: float, steps: int,
                    end: torch.Tensor | None) -> Mismatch:
    """``mismatch`` of descend's end point, led by the first step at which the student's
    trajectory leaves the reference's and what differed there."""
    found = first_wrong_step(student, p0, lr, steps, end) if steps > 0 else None
    if found is None:
        return mismatch
    k, before, got, want = found
    if k is None:
        note = (f"every single step descend(p, lr, 1) matches the reference, but "
                f"descend(p0, lr, {steps}) does not end where {steps} single steps do, at "
                f"{_xy(before)}: does the loop run exactly `steps` times?")
        public = (f"every single step matches the reference, but descend(p0, lr, {steps}) does "
                  f"not end where {steps} single steps do: does the loop run `steps` times?")
        k = 0
    elif got is None:
        note = public = f"descend(p, lr, 1) returned no point at step {k} of {steps}"
    else:
        note = (f"descend leaves the reference trajectory at step {k} of {steps}: from "
                f"{_xy(before)} your step went to {_xy(got)}, the reference's to {_xy(want)}")
        public = f"descend leaves the reference trajectory at step {k} of {steps}"
    return Mismatch(mismatch.stage, f"{note}; {mismatch.message}",
                    public_message=f"{public}; {mismatch.public_message}",
                    details={**mismatch.details, "step": k, "steps": steps})


def check_descend_trajectory(student, p0: torch.Tensor, lr: float, steps: int,
                             profile: str = "loose") -> None:
    """The student's ``descend`` against the reference trajectory's end; a wrong end names
    the step at which the trajectory left the reference's."""
    result = student.call("descend", p0, lr, steps, return_inputs=True)
    try:
        assert_close(result.value, descend(p0, lr, steps), name="descend(...)",
                     profile=profile, dtype=p0.dtype, meta=result.meta, device=result.device,
                     hint=values_hint(DESCEND_HINT))
    except Mismatch as mismatch:
        if mismatch.stage != "values":
            raise
        raise with_trajectory(student, mismatch, p0, lr, steps, result.value) from None
    _check_p0(result, p0)


def check_descend(student, p0: torch.Tensor, lr: float, steps: int) -> None:
    """One call of the student's ``descend``: it must end within 1e-3 of a minimum, and at the
    end of the reference trajectory (autograd's gradient, float64), with ``p0`` unmodified.
    A wrong end names the step at which the trajectory left the reference's."""
    result = student.call("descend", p0, lr, steps, return_inputs=True)
    try:
        assert_near_minimum(result.value, p0, lr, steps)
        assert_close(result.value, descend(p0, lr, steps), name=f"descend(..., lr={lr}, "
                     f"steps={steps})", profile="loose", dtype=p0.dtype, meta=result.meta,
                     device=result.device, hint=values_hint(DESCEND_HINT))
    except Mismatch as mismatch:
        if mismatch.stage != "values":
            raise
        raise with_trajectory(student, mismatch, p0, lr, steps, result.value) from None
    _check_p0(result, p0)


def _check_p0(result, p0: torch.Tensor) -> None:
    after = _first_tensor(result.inputs_after)
    if after is not None and not torch.equal(after.to(p0.dtype).cpu(), p0):
        raise Mismatch("inputs", "`descend` modified its input p0 in place; compute into new "
                                 "tensors instead")


def _first_tensor(value):
    if isinstance(value, torch.Tensor):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(
        value, (list, tuple)) else ()
    if isinstance(value, dict) and "args" in value:
        items = [value["args"]]
    for item in items:
        found = _first_tensor(item)
        if found is not None:
            return found
    return None
