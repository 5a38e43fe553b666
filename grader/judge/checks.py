"""High-level checks for test authors: one call compares a student's function or module with
a reference on the same inputs: values, then gradients per input or parameter, then that the
inputs were not modified.

    from grader.judge.checks import check_function

    @pytest.mark.part("softmax")
    def test_softmax_rows(student, rng):
        a = torch.randn(4, 10, generator=rng, dtype=torch.float64)
        check_function(student, "softmax", torch.softmax, a, dim=-1, grad=True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from grader.judge.compare import Hint, Mismatch, assert_close, shape_mismatch
from grader.judge.proxy import CallResult, ModuleResult, Student
from grader.wire import trees
from grader.wire.vjp import vjp_objective

__all__ = ["check_function", "check_module", "reference_grads", "upcast"]


def upcast(value: Any, *, requires_grad: bool = False) -> Any:
    """A float64 copy of every floating tensor in a tree (optionally requiring grad)."""
    def one(leaf: Any) -> Any:
        if not isinstance(leaf, torch.Tensor):
            return leaf
        if leaf.is_floating_point():
            return leaf.detach().to(torch.float64).requires_grad_(requires_grad)
        return leaf.clone()

    return trees.map_tree(value, one)


def _floating(value: Any, path: str = "") -> list[tuple[str, torch.Tensor]]:
    return [(p, t) for p, t in trees.leaves(value, path) if t.is_floating_point()]


def _map_tensors(value: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    return trees.map_tree(value, lambda v: fn(v) if isinstance(v, torch.Tensor) else v)


def reference_grads(outputs: Any, upstream: Any, leaves: list[tuple[str, torch.Tensor]],
                    ) -> dict[str, torch.Tensor]:
    """Gradients of a reference's outputs (weighted by ``upstream``) per input path."""
    pairs = [(o, u) for o, u in zip(trees.tensors(outputs), trees.tensors(upstream))
             if o.requires_grad]
    if not pairs:
        return {p: torch.zeros_like(t) for p, t in leaves}
    grads = torch.autograd.grad(vjp_objective(pairs), [t for _, t in leaves], allow_unused=True)
    return {p: (g if g is not None else torch.zeros_like(t)) for (p, t), g in zip(leaves, grads)}


def _display_names(reference: Callable[..., Any], args: Sequence[Any],
                   kwargs: Mapping[str, Any]) -> dict[str, str]:
    """Map executor paths (``args[1][0]``) to parameter names (``weights[0]``)."""
    names: dict[str, str] = {}
    try:
        params = list(inspect.signature(reference).parameters)
    except (TypeError, ValueError):
        params = []
    for i in range(len(args)):
        names[f"args[{i}]"] = params[i] if i < len(params) else f"argument {i + 1}"
    for key in kwargs:
        names[f"kwargs.{key}"] = key
    return names


def _pretty(path: str, names: dict[str, str]) -> str:
    for prefix in sorted(names, key=len, reverse=True):
        if path.startswith(prefix):
            return names[prefix] + path[len(prefix):]
    return path


def _input_dtype(args: Sequence[Any], kwargs: Mapping[str, Any]) -> torch.dtype | None:
    for t in trees.tensors(list(args)) + trees.tensors(dict(kwargs)):
        if t.is_floating_point():
            return t.dtype
    return None


def check_function(student: Student, name: str, reference: Callable[..., Any], *args: Any,
                   grad: bool = False, grad_wrt: Sequence[str | int] | None = None,
                   profile: str = "elementwise", grad_profile: str = "accumulate",
                   hint: Hint = None, grad_hint: Hint = None, check_inputs: bool = True,
                   generator: torch.Generator | None = None, **kwargs: Any) -> CallResult:
    """Call ``name`` in the student's code and ``reference`` in float64 on the same inputs,
    then compare the values, the gradients (for a random upstream gradient) and the inputs.

    Gradients are taken with respect to every floating input, or only to those ``grad_wrt``
    names (``reference``'s parameter names, or positions): buffers a function only reads or
    updates (running statistics) are inputs, not leaves, in the executor too.
    """
    wrt = _grad_wrt(reference, grad_wrt, len(args), kwargs) if grad else None
    ref_args = upcast(list(args), requires_grad=grad and wrt is None)
    ref_kwargs = upcast(dict(kwargs), requires_grad=grad and wrt is None)
    if wrt is not None:
        for key in wrt:
            for _, leaf in _floating(ref_args[key] if isinstance(key, int)
                                          else ref_kwargs[key]):
                leaf.requires_grad_(True)
    expected = reference(*ref_args, **ref_kwargs)
    upstream = None
    if grad:
        gen = generator or torch.Generator().manual_seed(student.seed)
        upstream = _map_tensors(expected, lambda t: torch.randn(
            t.shape, generator=gen, dtype=torch.float64) if t.is_floating_point() else t)
    dtype = _input_dtype(args, kwargs)
    sent_upstream = _map_tensors(upstream, lambda t: t.to(dtype) if t.is_floating_point() and dtype else t) \
        if upstream is not None else None
    result = student.call(name, *args, grad=grad, upstream=sent_upstream,
                          return_inputs=check_inputs, grad_wrt=wrt, **kwargs)
    label = f"{name}(...)"
    assert_close(result.value, _map_tensors(expected, lambda t: t.detach()), name=label,
                 profile=profile, dtype=dtype, meta=result.meta, device=result.device, hint=hint)
    if grad:
        leaves: list[tuple[str, torch.Tensor]] = []
        leaves += _floating(ref_args, "args") + _floating(ref_kwargs, "kwargs")
        leaves = [(p, t) for p, t in leaves if t.requires_grad]
        _check_grads(result, reference_grads(expected, upstream, leaves),
                     _display_names(reference, args, kwargs), grad_profile, grad_hint)
    if check_inputs:
        _check_unmodified(name, result.inputs_after, {"args": list(args), "kwargs": dict(kwargs)})
    return result




def _grad_wrt(reference: Callable[..., Any], names: Sequence[str | int] | None, n_args: int,
              kwargs: Mapping[str, Any]) -> list[int | str] | None:
    """``grad_wrt`` as positions of the call's ``args`` and names of its ``kwargs``."""
    if names is None:
        return None
    try:
        params = list(inspect.signature(reference).parameters)
    except (TypeError, ValueError):
        params = []
    keys: list[int | str] = []
    for name in names:
        if isinstance(name, str) and name not in kwargs and name in params:
            name = params.index(name)
        if isinstance(name, int) and not 0 <= name < n_args or \
                isinstance(name, str) and name not in kwargs:
            raise ValueError(f"grad_wrt names {name!r}, which is not an argument of this call "
                             f"to the reference (parameters: {', '.join(params) or '?'})")
        keys.append(name)
    return keys


def _check_grads(result: CallResult, expected: dict[str, torch.Tensor], names: dict[str, str],
                 profile: str, hint: Hint) -> None:
    for path, want in expected.items():
        label = f"grad of {_pretty(path, names)}"
        got = result.grads.get(path)
        if got is None:
            if bool(want.abs().max() == 0) if want.numel() else True:
                continue
            raise Mismatch("gradients", f"{label} is missing: the result has no autograd "
                           "history with respect to it (.detach(), .data, .item(), numpy or a "
                           "new tensor break the graph)").with_hint(hint)
        try:
            assert_close(got, want, name=label, profile=profile, dtype=got.dtype, hint=hint)
        except Mismatch as mismatch:
            mismatch.stage = "gradients"
            raise


def _check_unmodified(name: str, after: Any, before: Any) -> None:
    if after is None:
        return
    for (path, b), a in zip(trees.leaves(before), trees.tensors(after)):
        if b.shape != a.shape or not torch.equal(b.to(a.dtype), a):
            raise Mismatch("inputs", f"`{name}` modified its input {path.lstrip('.')} in place; "
                           "compute into new tensors instead")


def check_module(student: Student, name: str, reference: torch.nn.Module, *init_args: Any,
                 inputs: Sequence[Sequence[torch.Tensor]], modes: Sequence[str] = ("train",),
                 init_kwargs: Mapping[str, Any] | None = None, dtype: torch.dtype = torch.float64,
                 grad: bool = True, profile: str = "accumulate", hint: Hint = None,
                 ) -> ModuleResult:
    """Build ``name`` in the executor with ``reference``'s state_dict, run one step per input
    (in the matching mode), and compare state_dict keys, outputs, gradients with respect to
    inputs and parameters, and the state after the steps with ``reference`` run in float64.
    """
    ref = reference.to(torch.float64)
    state = {k: (v.to(dtype) if v.is_floating_point() else v).clone()
             for k, v in ref.state_dict().items()}
    gen = torch.Generator().manual_seed(student.seed)
    ups, steps = [], []
    for x, mode in zip(inputs, modes):
        ref.train(mode == "train")
        with torch.no_grad():
            out_shape = ref(*upcast(list(x))).shape
        up = torch.randn(out_shape, generator=gen, dtype=torch.float64) if grad else None
        ups.append(up)
        steps.append({"mode": mode, "inputs": list(x),
                      "upstream": up.to(dtype) if up is not None else None, "return_state": True})
    ref.load_state_dict(state)
    ref.to(torch.float64)
    result = student.module(name, *init_args, init_kwargs=init_kwargs, state_dict=state,
                            dtype=dtype, steps=steps)
    _check_state_keys(name, result.state_meta, reference)
    for i, (x, mode, up) in enumerate(zip(inputs, modes, ups)):
        try:
            _check_step(name, i, ref, result, x, mode, up, dtype, profile, hint,
                        student.device_for(dtype))
        except Mismatch as mismatch:
            raise _first_step(name, mismatch, i, len(ups)) from None
    return result


def _first_step(name: str, mismatch: Mismatch, i: int, steps: int) -> Mismatch:
    """A step's mismatch, led by the step at which the student's module leaves the
    reference's trajectory (the steps before it agree)."""
    if steps < 2:
        return mismatch
    agree = "" if i == 0 else f" after {i} step{'s' if i > 1 else ''} that agree"
    lead = f"{name} leaves the reference at step {i + 1} of {steps}{agree}"
    return Mismatch(mismatch.stage, f"{lead}: {mismatch.message}",
                    public_message=f"{lead}: {mismatch.public_message}",
                    details={**mismatch.details, "step": i + 1, "steps": steps})


def _check_state_keys(name: str, meta: Mapping[str, Any], reference: torch.nn.Module) -> None:
    want = {k: list(v.shape) for k, v in reference.state_dict().items()}
    got = {k: v.get("shape") for k, v in meta.items()}
    if set(got) != set(want):
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        raise Mismatch("state_dict", f"{name}'s state_dict keys differ: missing {missing}, "
                                     f"unexpected {extra}")
    for key in want:
        if got[key] != want[key]:
            raise shape_mismatch(f"{name}'s {key}", tuple(got[key] or ()), tuple(want[key]),
                                 stage="state_dict")


def _check_step(name: str, i: int, ref: torch.nn.Module, result: ModuleResult,
                x: Sequence[torch.Tensor], mode: str, up: torch.Tensor | None,
                dtype: torch.dtype, profile: str, hint: Hint, device: str) -> None:
    ref.train(mode == "train")
    ref.zero_grad(set_to_none=True)
    xs = upcast(list(x), requires_grad=up is not None)
    out = ref(*xs)
    got = result.steps[i]
    where = f"{name} ({mode}, step {i + 1})"
    assert_close(got.get("output"), out.detach(), name=f"output of {where}", profile=profile,
                 dtype=dtype, meta=result.meta, device=device, hint=hint)
    if up is not None:
        params = [(n, p) for n, p in ref.named_parameters() if p.requires_grad]
        leaves = [(f"inputs[{j}]", t) for j, t in enumerate(xs)] + params
        grads = torch.autograd.grad(vjp_objective([(out, up)]), [t for _, t in leaves],
                                    allow_unused=True)
        for (path, t), g in zip(leaves, grads):
            want = g if g is not None else torch.zeros_like(t)
            source = got.get("input_grads", {}) if path.startswith("inputs") else \
                got.get("param_grads", {})
            have = source.get(path)
            label = f"grad of {path.replace('inputs[0]', 'x')}" if path.startswith("inputs") \
                else f"{path}.grad"
            if have is None:
                if want.abs().max() == 0:
                    continue
                raise Mismatch("gradients", f"{label} in {where} is missing (no autograd history)")
            try:
                assert_close(have, want, name=f"{label} in {where}", profile=profile, dtype=dtype,
                             hint=hint)
            except Mismatch as mismatch:
                mismatch.stage = "gradients"
                raise
    state = got.get("state_dict") or {}
    for key, want in ref.state_dict().items():
        if key in state:
            assert_close(state[key], want.detach(), name=f"{key} after {where}", profile=profile,
                         dtype=dtype if want.is_floating_point() else want.dtype, hint=hint)
