"""The ``student`` fixture: a proxy whose calls become executor requests.

``student.call("softmax", a, dim=-1, grad=True, upstream=g)`` sends the inputs to the
sandboxed executor and returns a CallResult of plain tensors. A call that does not produce an
answer raises a StudentFailure (not implemented, missing, raised, timed out, crashed,
forbidden), which the plugin turns into the test's status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from grader import protocol
from grader.compare import Mismatch
from grader.errors import (
    ExecutorCrash,
    ForbiddenCall,
    MalformedReply,
    MissingName,
    NotImplementedByStudent,
    StudentException,
    StudentFailure,
)
from grader.forbidden_rules import describe_hit, kind_of

if TYPE_CHECKING:
    from grader.plugin import SubmissionRun

__all__ = ["CallResult", "ModuleResult", "Student"]


@dataclass
class CallResult:
    """What a student's function returned: its value, gradients per input, inputs after."""

    value: Any
    grads: dict[str, torch.Tensor | None] = field(default_factory=dict)
    grad_note: str | None = None
    inputs_after: Any = None
    tensor_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    duration_s: float = 0.0

    def meta(self, tensor: Any) -> Mapping[str, Any] | None:
        """What the executor reported about a returned tensor (device, type, stride...)."""
        return self.tensor_meta.get(id(tensor))


@dataclass
class ModuleResult:
    """A student's module after construction, loading and the requested steps."""

    state_meta: dict[str, dict[str, Any]]
    steps: list[dict[str, Any]]
    state_dict: dict[str, torch.Tensor]
    initial_state: dict[str, torch.Tensor] | None
    tensor_meta: dict[int, dict[str, Any]] = field(default_factory=dict)

    def meta(self, tensor: Any) -> Mapping[str, Any] | None:
        return self.tensor_meta.get(id(tensor))


def _encode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Generator):
        raise TypeError("pass a seed with grader.proxy.generator(seed), not a torch.Generator")
    if isinstance(value, _GeneratorArg):
        return {"$gen": [value.seed, "same"]}
    if isinstance(value, list):  # generators may sit inside the args list / kwargs dict
        return [_encode(v, tensors) for v in value]
    if isinstance(value, tuple) and not isinstance(value, torch.Size):
        return {"$tuple": [_encode(v, tensors) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": {k: _encode(v, tensors) for k, v in value.items()}}
    return protocol.encode_value(value, tensors, {})


@dataclass(frozen=True)
class _GeneratorArg:
    seed: int


def generator(seed: int) -> Any:
    """An argument that becomes a ``torch.Generator`` seeded with ``seed`` in the executor."""
    return _GeneratorArg(int(seed))


class Student:
    """The submission as seen by one test."""

    def __init__(self, run: SubmissionRun, *, part: str, seed: int, hidden: bool) -> None:
        self._run = run
        self.part = part
        self.seed = seed
        self.hidden = hidden
        self.device = run.settings.device

    def _preflight(self, name: str) -> None:
        run = self._run
        failed = run.prepared.failed_names().get(name)
        if failed:
            raise MissingName(f"`{name}` could not be loaded: {failed['message']}")
        for err in run.load_errors():
            if name in err.get("defines", []):
                raise MissingName(f"defining `{name}` raised {err['type']}: {err['message']} "
                                  f"(line {err.get('lineno')})",
                                  public_message=f"defining `{name}` raised {err['type']}")

    def _send(self, op: str, name: str, body: dict[str, Any], tensors: dict[str, torch.Tensor],
              ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self._preflight(name)
        header = {"op": op, "name": name, "seed": self.seed, "device": self.device,
                  "forbidden": list(self._run.forbidden_patterns(self.part)), **body}
        reply, out = self._run.request(header, tensors, label=name)
        used = reply.get("forbidden_used")
        if used:  # before any error: what raised after a forbidden call still used it
            raise ForbiddenCall(_forbidden_message(self.part, used))
        if not reply.get("ok"):
            raise self._failure(name, reply.get("error") or {})
        return reply, out

    def _failure(self, name: str, err: dict[str, Any]) -> StudentFailure | Mismatch:
        kind = err.get("kind")
        frames = err.get("frames") or []
        where = ""
        if frames:
            last = frames[-1]
            where = f" ({str(last.get('file', '')).rsplit('/', 1)[-1]} line {last.get('line')}" \
                    f": `{last.get('code', '')}`)"
        if kind == "not_implemented":
            return NotImplementedByStudent(f"`{name}` is not implemented yet")
        if kind in ("missing", "signature"):
            hint = self._run.expected_signature(name)
            text = str(err.get("message", "")) + (f"; expected `{name}{hint}`" if hint else "")
            return MissingName(text)
        if kind == "state_dict":
            return Mismatch("state_dict", f"load_state_dict on `{name}` failed: "
                                          f"{err.get('message')}")
        if kind == "reply":
            return MalformedReply(f"`{name}` returned something that cannot be sent back: "
                                  f"{err.get('type')}: {err.get('message')}")
        stage = " in backward" if err.get("stage") == "backward" else ""
        hint = _device_hint(str(err.get("message", "")), self.device)
        if kind == "exit":
            return ExecutorCrash(f"`{name}` called sys.exit{stage}{where}")
        text = f"`{name}` raised {err.get('type')}{stage}: {err.get('message')}{where}{hint}"
        failure = StudentException(text, public_message=f"`{name}` raised {err.get('type')}"
                                                        f"{stage}{where}{hint}")
        if err.get("stage") == "backward":
            failure.stage = "gradients"
        return failure

    def call(self, name: str, *args: Any, grad: bool = False, upstream: Any = None,
             return_inputs: bool = False, **kwargs: Any) -> CallResult:
        """Call the student's function ``name`` in the executor."""
        tensors: dict[str, torch.Tensor] = {}
        body: dict[str, Any] = {"args": _encode(list(args), tensors),
                                "kwargs": _encode(dict(kwargs), tensors),
                                "grad": grad, "return_inputs": return_inputs}
        if upstream is not None:
            body["upstream"] = _encode(upstream, tensors)
        reply, out = self._send("call", name, body, tensors)
        return _call_result(reply, out)

    def harness(self, name: str, *args: Any, grad: bool = False, upstream: Any = None,
                **kwargs: Any) -> CallResult:
        """Call ``name`` from the homework's public harness with the student's module first."""
        tensors: dict[str, torch.Tensor] = {}
        body: dict[str, Any] = {"args": _encode(list(args), tensors),
                                "kwargs": _encode(dict(kwargs), tensors), "grad": grad}
        if upstream is not None:
            body["upstream"] = _encode(upstream, tensors)
        reply, out = self._send("harness", name, body, tensors)
        return _call_result(reply, out)

    def module(self, name: str, *init_args: Any, init_kwargs: Mapping[str, Any] | None = None,
               state_dict: Mapping[str, torch.Tensor] | None = None,
               dtype: torch.dtype | None = None, steps: Sequence[Mapping[str, Any]] = (),
               initial_state: bool = False, init_seed: int = 0) -> ModuleResult:
        """Build the student's module ``name``, load ``state_dict``, run ``steps``.

        Each step is ``{"mode": "train"|"eval", "inputs": [tensors], "upstream": tensor or
        None, "return_state": bool}``.
        """
        tensors: dict[str, torch.Tensor] = {}
        body: dict[str, Any] = {
            "init_args": _encode(list(init_args), tensors),
            "init_kwargs": _encode(dict(init_kwargs or {}), tensors),
            "dtype": protocol.dtype_name(dtype) if dtype else None,
            "initial_state": initial_state, "init_seed": init_seed,
            "steps": [{"mode": s.get("mode", "train"),
                       "inputs": _encode(list(s.get("inputs", [])), tensors),
                       "upstream": _encode(s["upstream"], tensors)
                       if s.get("upstream") is not None else None,
                       "return_state": bool(s.get("return_state"))} for s in steps]}
        if state_dict is not None:
            body["state_dict"] = _encode(dict(state_dict), tensors)
        reply, out = self._send("module", name, body, tensors)
        meta_by_key = reply.get("meta") or {}
        decoded = {k: _decode(reply.get(k), out) for k in ("steps", "state_dict", "initial_state")}
        return ModuleResult(state_meta=reply.get("state_meta") or {},
                            steps=decoded["steps"] or [], state_dict=decoded["state_dict"] or {},
                            initial_state=decoded["initial_state"],
                            tensor_meta={id(out[k]): m for k, m in meta_by_key.items() if k in out})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.call(name, *args, **kwargs).value

        return call


_DEVICE_HINTS = (
    ("Expected all tensors to be on the same device",
     "a tensor was created on another device; create new tensors with device=x.device"),
    ("Torch not compiled with CUDA enabled",
     "a hard-coded .cuda(); use .to(x.device) so the code runs on any device"),
    ("Found no NVIDIA driver", "a hard-coded .cuda(); use .to(x.device)"),
    ("out of memory", "the code ran out of memory; avoid building large intermediate tensors"),
    ("can't allocate memory", "the code ran out of memory; avoid building large intermediate "
     "tensors"),
)


def _device_hint(message: str, device: str) -> str:
    """One sentence for the device mistakes students make, read off the exception text."""
    for needle, hint in _DEVICE_HINTS:
        if needle in message:
            return f"; hint: {hint}"
    return ""


def _forbidden_message(part: str, used: Any) -> str:
    """The message of the executor's forbidden hits: the first operator or autograd hit (it
    names the call that reached it), else the first Python name."""
    hits = [h for h in used if isinstance(h, dict)] if isinstance(used, list) else []
    if not hits:
        return f"{part}: a forbidden API was used"
    first = next((h for h in hits if kind_of(str(h.get("rule", ""))) != "python"), hits[0])
    more = len({str(h.get("call") or h.get("rule")) for h in hits} - {str(first.get("call")),
                                                                       str(first.get("rule"))})
    return describe_hit(part, first) + (f" (and {more} more forbidden call{'s' * (more > 1)})"
                                        if more else "")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if value is None:
        return None
    try:
        return protocol.decode_value(value, tensors)
    except protocol.FrameError as err:
        raise MalformedReply(f"the executor's reply was malformed: {err}") from None


def _call_result(reply: dict[str, Any], out: dict[str, torch.Tensor]) -> CallResult:
    meta_by_key = reply.get("meta") or {}
    grads = _decode(reply.get("grads"), out) or {}
    if not isinstance(grads, dict):
        raise MalformedReply("the executor's gradients were not a mapping")
    return CallResult(value=_decode(reply.get("value"), out), grads=grads,
                      grad_note=reply.get("grad_note"),
                      inputs_after=_decode(reply.get("inputs_after"), out),
                      tensor_meta={id(out[k]): m for k, m in meta_by_key.items() if k in out},
                      duration_s=float(reply.get("duration_s") or 0.0))
