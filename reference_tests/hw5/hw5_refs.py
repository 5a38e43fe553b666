"""Torch-built references and checks for hw5 (public: they use PyTorch only, never the
solutions)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from grader.judge.compare import Mismatch, assert_close, shape_mismatch
from grader.judge.proxy import Student


def values_hint(text: str):
    """A hint shown when the values differ (finite but wrong)."""
    return lambda m: text if m.stage == "values" and "nonfinite" not in m.details else None


def stage_hint(stage: str, text: str):
    """A hint shown only for a mismatch at ``stage``."""
    return lambda m: text if m.stage == stage else None


# -- conv2d_output_size -----------------------------------------------------------------------

def conv2d_output_size(h: int, w: int, kernel_size: int, stride: int = 1,
                       padding: int = 0) -> tuple[int, int]:
    """The output size of F.conv2d, read off the shape of a real convolution."""
    out = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, kernel_size, kernel_size),
                   stride=stride, padding=padding)
    return tuple(int(s) for s in out.shape[-2:])


def check_output_size(student: Student, h: int, w: int, k: int, stride: int | None = 1,
                      padding: int | None = 0) -> None:
    """The student's conv2d_output_size against F.conv2d's; a stride or padding of None is
    left out of the call (so the defaults, 1 and 0, are the student's)."""
    options = {name: value for name, value in (("stride", stride), ("padding", padding))
               if value is not None}
    want = conv2d_output_size(h, w, k, **options)
    shown = [str(h), str(w), str(k)] + [f"{name}={value}" for name, value in options.items()]
    label = f"conv2d_output_size({', '.join(shown)})"
    got = student.call("conv2d_output_size", h, w, k, **options).value
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch("type", f"{label} returned {type(got).__name__} {got!r}, expected a "
                               "tuple of two ints (h_out, w_out)")
    for i, (g, e) in enumerate(zip(got, want, strict=True)):
        if isinstance(g, bool) or not isinstance(g, int):
            raise Mismatch("type", f"{label}[{i}] is a {type(g).__name__} ({g!r}), expected "
                                   "a Python int; hint: use floor division // ",
                           public_message=f"{label}[{i}] is a {type(g).__name__}, expected a "
                                          "Python int; hint: use floor division //")
        if g != e:
            raise Mismatch("values", f"{label}[{i}] is {g}, expected {e}; hint: "
                                     "floor((h + 2p - k) / s) + 1",
                           public_message=f"{label}[{i}] differs from the expected value; "
                                          "hint: floor((h + 2p - k) / s) + 1")


# -- inputs -------------------------------------------------------------------------------

def distinct(shape: tuple[int, ...], rng: torch.Generator,
             dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Values without ties (a random permutation of distinct values), so that max pooling
    has one well-defined maximum per window and its gradient is unambiguous."""
    n = 1
    for s in shape:
        n *= s
    values = torch.randperm(n, generator=rng).to(torch.float64) / n * 4 - 2
    return values.reshape(shape).to(dtype)


# -- batch_norm -----------------------------------------------------------------------------

def batch_norm_reference(x, gamma, beta, running_mean, running_var, training,
                         momentum=0.1, eps=1e-5):
    """(y, new_running_mean, new_running_var) and the gradients of y w.r.t. (x, gamma, beta)
    for ``upstream``, by F.batch_norm in float64 (which updates its running tensors in place,
    so it gets clones)."""
    x = x.detach().to(torch.float64).requires_grad_(True)
    gamma = gamma.detach().to(torch.float64).requires_grad_(True)
    beta = beta.detach().to(torch.float64).requires_grad_(True)
    rm = running_mean.detach().to(torch.float64).clone()
    rv = running_var.detach().to(torch.float64).clone()
    y = F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=momentum, eps=eps)
    return y, rm, rv, (x, gamma, beta)


_BN_NAMES = ("x", "gamma", "beta")


def check_batch_norm(student: Student, x, gamma, beta, running_mean, running_var,
                     training: bool, momentum: float | None = None, eps: float | None = None,
                     grad: bool = True) -> None:
    """Compare the student's batch_norm with F.batch_norm: y, both running stats (which must
    come back without autograd history), the gradients of y w.r.t. x, gamma and beta (the
    only inputs that require grad: the running stats are buffers), and that no input was
    modified. ``momentum`` or ``eps`` left as None are left out of the call, so the student's
    defaults must be the curriculum's (0.1 and 1e-5)."""
    options = {k: v for k, v in (("momentum", momentum), ("eps", eps)) if v is not None}
    y, rm, rv, leaves = batch_norm_reference(x, gamma, beta, running_mean, running_var,
                                             training, **options)
    dtype = x.dtype
    upstream = None
    if grad:
        gen = torch.Generator().manual_seed(student.seed)
        upstream = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    inputs = [x, gamma, beta, running_mean, running_var]
    result = student.call("batch_norm", *inputs, training, **options, grad=grad,
                          grad_wrt=(0, 1, 2), upstream=[upstream.to(dtype)] if grad else None,
                          return_inputs=True)
    got = result.value
    mode = "training" if training else "eval"
    label = f"batch_norm(..., training={training})"
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        assert_close(got, (y.detach(), rm, rv), name=label, dtype=dtype, meta=result.meta)
    kw = dict(profile="accumulate", dtype=dtype, meta=result.meta, device=result.device)
    assert_close(got[0], y.detach(), name=f"y of {label}", **kw,
                 hint=values_hint("training mode normalises with the batch mean and the "
                                  "biased variance (divide by n), over every dim but C"
                                  if training else "eval mode normalises with the running "
                                  "stats, not the batch's"))
    assert_close(got[1], rm, name=f"new_running_mean of {label}", **kw,
                 hint=values_hint("new = (1 - momentum) * old + momentum * batch_mean"
                                  if training else "in eval mode the running stats come "
                                  "back unchanged"))
    assert_close(got[2], rv, name=f"new_running_var of {label}", **kw,
                 hint=values_hint("running_var uses the unbiased batch variance (divide by "
                                  "n-1)" if training else "in eval mode the running stats "
                                  "come back unchanged"))
    if training and grad:
        for i, what in ((1, "new_running_mean"), (2, "new_running_var")):
            meta = result.meta(got[i]) or {}
            if meta.get("has_history"):
                raise Mismatch("values", f"{what} of {label} has autograd history; compute "
                                         "the running stats under torch.no_grad() or detach "
                                         "them")
    if grad:
        # a scalar's gradient: the same VJP without grad_outputs (which imports sympy)
        want = torch.autograd.grad((y * upstream).sum(), leaves)
        for i, (name, g) in enumerate(zip(_BN_NAMES, want, strict=True)):
            have = result.grads.get(f"args[{i}]")
            where = f"grad of {name} in batch_norm ({mode})"
            if have is None:
                raise Mismatch("gradients", f"{where} is missing: y has no autograd history "
                                            f"with respect to {name}")
            try:
                assert_close(have, g, name=where, profile="accumulate", dtype=dtype)
            except Mismatch as mismatch:
                mismatch.stage = "gradients"
                raise
    names = ("x", "gamma", "beta", "running_mean", "running_var")
    after = (result.inputs_after or {}).get("args") or []
    for name, before, now in zip(names, inputs, after, strict=False):
        if not isinstance(now, torch.Tensor) or not torch.equal(before, now.to(before.dtype)):
            raise Mismatch("inputs", f"`batch_norm` modified its input {name} in place; return "
                                     "new running stats instead of updating them")


def check_batch_norm_steps(student: Student, xs, gamma, beta, running_mean, running_var,
                           momentum: float = 0.1) -> None:
    """batch_norm used for several training steps, as a training loop does: each call gets
    the running stats the previous call returned. The student's chain is compared step by
    step with F.batch_norm's chain from the same start, and the first step at which it
    leaves the reference's is named."""
    rm, rv = running_mean, running_var
    ref_rm, ref_rv = running_mean.to(torch.float64), running_var.to(torch.float64)
    for step, x in enumerate(xs, start=1):
        y, ref_rm, ref_rv, _ = batch_norm_reference(x, gamma, beta, ref_rm, ref_rv, True,
                                                    momentum=momentum)
        got = student.call("batch_norm", x, gamma, beta, rm, rv, True, momentum=momentum).value
        label = f"batch_norm (training step {step} of {len(xs)})"
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            assert_close(got, (y.detach(), ref_rm, ref_rv), name=label, dtype=x.dtype)
        try:
            for i, (what, want) in enumerate((("y", y.detach()), ("new_running_mean", ref_rm),
                                              ("new_running_var", ref_rv))):
                assert_close(got[i], want, name=f"{what} of {label}", profile="accumulate",
                             dtype=x.dtype)
        except Mismatch as mismatch:
            if step == 1:
                raise
            lead = (f"batch_norm leaves the reference's running stats at step {step} of "
                    f"{len(xs)} (each call fed the stats the previous one returned)")
            raise Mismatch(mismatch.stage, f"{lead}: {mismatch.message}",
                           public_message=f"{lead}: {mismatch.public_message}",
                           details={**mismatch.details, "step": step,
                                    "steps": len(xs)}) from None
        rm, rv = got[1], got[2]


def bn_params(c: int, rng: torch.Generator, dtype: torch.dtype = torch.float64):
    """gamma, beta, running_mean, running_var: random, with a positive variance."""
    gamma = torch.rand(c, generator=rng, dtype=torch.float64) + 0.5
    beta = torch.randn(c, generator=rng, dtype=torch.float64)
    rm = torch.randn(c, generator=rng, dtype=torch.float64) * 0.5
    rv = torch.rand(c, generator=rng, dtype=torch.float64) + 0.5
    return [t.to(dtype) for t in (gamma, beta, rm, rv)]


# -- modules --------------------------------------------------------------------------------

def random_state(shapes: Mapping[str, tuple[int, ...]],
                 rng: torch.Generator) -> dict[str, torch.Tensor]:
    """float64 values for floating state_dict entries of these shapes: N(0, 0.25), with
    BatchNorm weights and running variances positive, so that every entry matters."""
    state = {}
    for name, shape in shapes.items():
        values = torch.randn(shape, generator=rng, dtype=torch.float64) * 0.5
        if name.endswith("running_var") or name.endswith("weight") and len(shape) == 1:
            values = values.abs() + 0.5
        state[name] = values
    return state


@torch.no_grad()
def randomize(module: nn.Module, rng: torch.Generator) -> nn.Module:
    """Random parameters and BatchNorm buffers (``random_state``'s), in place."""
    state = module.state_dict()
    floating = {k: tuple(t.shape) for k, t in state.items() if t.is_floating_point()}
    for name, values in random_state(floating, rng).items():
        state[name].copy_(values.to(state[name].dtype))
    return module


StateTable = Mapping[str, tuple[tuple[int, ...], str]]
"""A module's state_dict written out: each key's shape and dtype (``"float32"``...)."""


def state_table(module: nn.Module) -> dict[str, tuple[tuple[int, ...], str]]:
    """The state table of a module (a torch-built reference's)."""
    return {k: (tuple(t.shape), str(t.dtype).removeprefix("torch."))
            for k, t in module.state_dict().items()}


def check_state_layout(student: Student, name: str, want: nn.Module | StateTable, *init_args,
                       init_kwargs=None, hint: str | None = None) -> None:
    """The student's freshly built module has the state_dict keys, shapes and dtypes (before
    any cast) of ``want``: a torch-built module, or a table written out in the test."""
    table = state_table(want) if isinstance(want, nn.Module) else want
    result = student.module(name, *init_args, init_kwargs=init_kwargs)
    got = result.state_meta
    if set(got) != set(table):
        missing = sorted(set(table) - set(got))
        extra = sorted(set(got) - set(table))
        raise Mismatch("state_dict", f"{name}'s state_dict keys differ: missing {missing}, "
                                     f"unexpected {extra}").with_hint(hint)
    for key, (shape, dtype) in table.items():
        if got[key].get("shape") != list(shape):
            raise shape_mismatch(f"{name}'s {key}", tuple(got[key].get("shape") or ()), shape,
                                 stage="state_dict").with_hint(hint)
        if got[key].get("dtype") != dtype:
            raise Mismatch("state_dict", f"{name}'s {key} has dtype {got[key].get('dtype')}, "
                                         f"expected {dtype}").with_hint(hint)


class TorchLinear(nn.Module):
    """MyLinear's contract: ``w`` [outp, inp], ``b`` [outp], ``x @ w.T + b``."""

    def __init__(self, inp: int, outp: int, rng: torch.Generator) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(outp, inp, generator=rng, dtype=torch.float64))
        self.b = nn.Parameter(torch.randn(outp, generator=rng, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.w, self.b)
