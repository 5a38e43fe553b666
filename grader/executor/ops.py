"""The requests an executor answers: call a function, run a module, call a harness helper,
call a method of a kept object.

Each op takes a RequestContext and returns the body of the reply (value trees with tensors,
which the caller encodes). Inputs arrive on the CPU and are moved to the request's device;
everything goes back to the CPU when encoded. A request with ``keep`` keeps its value here
and answers with a handle to it; a handle among later inputs stands for the kept object.
"""

from __future__ import annotations

import inspect
import secrets
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from grader.executor.failures import error_record
from grader.executor.recorder import Recording
from grader.wire import trees, values
from grader.wire.vjp import vjp_objective

__all__ = ["OPS", "RequestContext"]


class _StudentError(Exception):
    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__(record.get("message", ""))
        self.record = record


@dataclass
class RequestContext:
    """One request being answered: the module, the decoded header and its tensors."""

    module: types.ModuleType
    harness: types.ModuleType | None
    header: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    device: str
    filenames: set[str]
    recorder: Recording | None = field(default=None)
    StudentError = _StudentError

    def decode(self, key: str, default: Any = None) -> Any:
        """A value tree from the header, with tensors and generators moved to the device."""
        if key not in self.header:
            return default
        return _to_device(values.decode_value(self.header[key], self.tensors), self.device)

    def lookup(self, name: str, kind: str) -> Any:
        """A name of the submission, checked to be a function or a class."""
        obj = self.module.__dict__.get(name, _MISSING)
        if obj is _MISSING:
            raise _StudentError({"kind": "missing", "type": "NameError",
                                 "message": f"`{name}` is not defined in the submission",
                                 "frames": []})
        ok = isinstance(obj, type) if kind == "class" else callable(obj) and not isinstance(obj, type)
        if not ok:
            raise _StudentError({"kind": "missing", "type": "TypeError",
                                 "message": f"`{name}` is a {type(obj).__name__}, expected a {kind}",
                                 "frames": []})
        return obj

    def recording(self) -> Recording:
        """The recorder for this request's forbidden list (made once per request)."""
        if self.recorder is None:
            self.recorder = Recording(list(self.header.get("forbidden", [])),
                                      filename=str(getattr(self.module, "__file__", "")))
        return self.recorder


_MISSING = object()


class _Kept:
    """Objects kept for the judge, by unguessable token. The table lives in this process
    only: a restarted executor starts empty, so its handles die with it."""

    def __init__(self) -> None:
        self._objects: dict[str, Any] = {}

    def put(self, obj: Any) -> values.Handle:
        token = secrets.token_hex(16)
        self._objects[token] = obj
        return values.Handle(token)

    def get(self, handle: values.Handle) -> Any:
        obj = self._objects.get(handle.token, _MISSING)
        if obj is _MISSING:
            raise _StudentError({"kind": "handle", "type": "LookupError",
                                 "message": f"this executor keeps no object for {handle!r}",
                                 "frames": []})
        return obj


KEPT = _Kept()


def _to_device(value: Any, device: str) -> Any:
    """The decoded tree as the student's code receives it: tensors on the request's device,
    generators made and seeded here, handles replaced by the objects they stand for."""
    def one(leaf: Any) -> Any:
        if isinstance(leaf, torch.Tensor):
            return leaf.to(device) if device != "cpu" else leaf
        if isinstance(leaf, values.Handle):
            return KEPT.get(leaf)
        if isinstance(leaf, values.GeneratorSpec):
            gen = torch.Generator(device=device if leaf.device == "same" else leaf.device)
            gen.manual_seed(leaf.seed)
            return gen
        return leaf

    return trees.map_tree(value, one)


def _leaf_inputs(value: Any, path: str, wanted: list[str] | None = None,
                 ) -> tuple[Any, list[tuple[str, torch.Tensor]]]:
    """The tree with its floating tensors (only those at or under ``wanted``, if given) made
    leaves that require grad, and those leaves with their paths."""
    return trees.replace_leaves(
        value, path, lambda t: t.detach().requires_grad_(True),
        lambda where, t: t.is_floating_point() and trees.at_or_under(where, wanted))


def _backward(outputs: Any, upstream: Any, leaves: list[tuple[str, torch.Tensor]],
              filenames: set[str]) -> tuple[dict[str, torch.Tensor | None], str | None]:
    """Gradients of the outputs (weighted by ``upstream``) with respect to each leaf."""
    pairs = list(zip(trees.tensors(outputs), trees.tensors(upstream)))
    usable = [(o, u) for o, u in pairs if o.requires_grad and o.shape == u.shape]
    if not usable or not leaves:
        return {p: None for p, _ in leaves}, "no_history" if pairs else "no_output"
    try:
        grads = torch.autograd.grad(vjp_objective(usable), [t for _, t in leaves],
                                    allow_unused=True)
    except BaseException as exc:  # noqa: B036 - the student's backward may raise anything
        record = error_record(exc, filenames)
        record["stage"] = "backward"
        raise _StudentError(record) from None
    return {p: (g.detach() if g is not None else None) for (p, _), g in zip(leaves, grads)}, None


def _bind_check(fn: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as err:
        raise _StudentError({"kind": "signature", "type": "TypeError",
                             "message": f"`{name}{sig}` cannot take this call: {err}",
                             "frames": []}) from None


def op_call(ctx: RequestContext) -> dict[str, Any]:
    """Call a student function, optionally under autograd, and return value, grads, inputs."""
    name = str(ctx.header["name"])
    fn = ctx.lookup(name, "function")
    args = list(ctx.decode("args", []))
    kwargs = dict(ctx.decode("kwargs", {}))
    return _run_callable(ctx, fn, name, args, kwargs)


def _run_callable(ctx: RequestContext, fn: Any, name: str, args: list[Any],
                  kwargs: dict[str, Any], *, check_bind: bool = True) -> dict[str, Any]:
    want_grad = bool(ctx.header.get("grad"))
    wanted = ctx.header.get("grad_wrt")  # None: every floating input is a leaf
    leaves: list[tuple[str, torch.Tensor]] = []
    if want_grad:
        args, arg_leaves = _leaf_inputs(args, "args", wanted)
        kwargs, kwarg_leaves = _leaf_inputs(kwargs, "kwargs", wanted)
        leaves = arg_leaves + kwarg_leaves
    if check_bind:
        _bind_check(fn, name, args, kwargs)
    with ctx.recording().active():
        value = fn(*args, **kwargs)
    if ctx.header.get("keep"):
        return {"value": KEPT.put(value)}  # the object stays here; the judge gets its handle
    body: dict[str, Any] = {"value": value}
    if want_grad:
        grads, reason = _backward(value, ctx.decode("upstream"), leaves, ctx.filenames)
        body["grads"] = grads
        body["grad_note"] = reason
    if ctx.header.get("return_inputs"):
        body["inputs_after"] = {"args": args, "kwargs": kwargs}
    return body


def op_harness(ctx: RequestContext) -> dict[str, Any]:
    """Call a helper of the homework's public harness with the student's module."""
    if ctx.harness is None:
        raise RuntimeError("this homework has no harness")
    name = str(ctx.header["name"])
    fn = getattr(ctx.harness, name)
    args = [ctx.module, *ctx.decode("args", [])]
    return _run_callable(ctx, fn, name, args, dict(ctx.decode("kwargs", {})), check_bind=False)


def op_method(ctx: RequestContext) -> dict[str, Any]:
    """Call a method of a kept object (``forward`` of a trained model)."""
    name = str(ctx.header["name"])
    obj = ctx.decode("handle")
    if not name.isidentifier() or (name.startswith("_") and name != "__call__"):
        raise _StudentError({"kind": "protocol", "type": "ValueError",
                             "message": f"{name!r} is not a public method name", "frames": []})
    fn = getattr(obj, name, None)
    if not callable(fn):
        raise _StudentError({"kind": "missing", "type": "AttributeError",
                             "message": f"the {type(obj).__name__} has no method `{name}`",
                             "frames": []})
    args = list(ctx.decode("args", []))
    kwargs = dict(ctx.decode("kwargs", {}))
    return _run_callable(ctx, fn, name, args, kwargs)


def op_module(ctx: RequestContext) -> dict[str, Any]:
    """Build a student nn.Module, load a state_dict, run steps; report outputs and gradients."""
    name = str(ctx.header["name"])
    cls = ctx.lookup(name, "class")
    if not issubclass(cls, torch.nn.Module):
        raise _StudentError({"kind": "missing", "type": "TypeError",
                             "message": f"`{name}` is not a subclass of torch.nn.Module",
                             "frames": []})
    init_args = list(ctx.decode("init_args", []))
    init_kwargs = dict(ctx.decode("init_kwargs", {}))
    _bind_check(cls, name, init_args, init_kwargs)
    torch.manual_seed(int(ctx.header.get("init_seed", 0)))
    with ctx.recording().active():
        module = cls(*init_args, **init_kwargs)
    body: dict[str, Any] = {"state_meta": _state_meta(module)}
    if ctx.header.get("initial_state"):
        body["initial_state"] = dict(module.state_dict())
    dtype = ctx.header.get("dtype")
    module.to(device=ctx.device, dtype=values.DTYPES[dtype] if dtype else None)
    state = ctx.decode("state_dict")
    if state is not None:
        _load_state(module, state)
    body["steps"] = [_module_step(ctx, module, step) for step in ctx.header.get("steps", [])]
    body["state_dict"] = {k: v.detach() for k, v in module.state_dict().items()}
    return body


def _state_meta(module: torch.nn.Module) -> dict[str, Any]:
    return {k: {"shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch.")}
            for k, v in module.state_dict().items()}


def _load_state(module: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise _StudentError({"kind": "state_dict", "type": "RuntimeError",
                             "message": str(err)[:1500], "frames": []}) from None


def _module_step(ctx: RequestContext, module: torch.nn.Module, step: dict[str, Any]) -> dict[str, Any]:
    module.train(step.get("mode", "train") == "train")
    inputs = list(values.decode_value(step.get("inputs", []), ctx.tensors))
    inputs = _to_device(inputs, ctx.device)
    leaves: list[tuple[str, torch.Tensor]] = []
    want_grad = step.get("upstream") is not None
    if want_grad:
        inputs, leaves = _leaf_inputs(inputs, "inputs")
        module.zero_grad(set_to_none=True)
    with ctx.recording().active():
        output = module(*inputs)
    result: dict[str, Any] = {"output": output}
    if want_grad:
        params: list[tuple[str, torch.Tensor]] = [
            (f"param.{n}", p) for n, p in module.named_parameters() if p.requires_grad]
        upstream = _to_device(values.decode_value(step["upstream"], ctx.tensors), ctx.device)
        grads, reason = _backward(output, upstream, leaves + params, ctx.filenames)
        result["input_grads"] = {k: v for k, v in grads.items() if k.startswith("inputs")}
        result["param_grads"] = {k[len("param."):]: v for k, v in grads.items()
                                 if k.startswith("param.")}
        result["grad_note"] = reason
    if step.get("return_state"):
        result["state_dict"] = {k: v.detach().clone() for k, v in module.state_dict().items()}
    return result


OPS: dict[str, Callable[[RequestContext], dict[str, Any]]] = {
    "call": op_call,
    "module": op_module,
    "harness": op_harness,
    "method": op_method,
}
