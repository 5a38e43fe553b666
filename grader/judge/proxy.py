"""The ``student`` fixture: a proxy whose calls become executor requests.

``student.call("softmax", a, dim=-1, grad=True, upstream=g)`` sends the inputs to the
sandboxed executor and returns a CallResult of plain tensors. A call that does not produce an
answer raises a StudentFailure (not implemented, missing, raised, timed out, crashed,
forbidden), which the plugin turns into the test's status.

``keep=True`` leaves the value in the executor and returns a ``Handle`` to it instead
(``student.call("train_classifier", x, y, generator(0), keep=True).value``); a handle passed
as an argument stands for the kept object there, and ``student.method(h, "forward", x)``
calls one of its methods. Handles die with the executor: one made before a restart, or not
by this submission's executor, fails the test that uses it (HandleError).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from grader.errors import (
    ExecutorCrash,
    ForbiddenCall,
    HandleError,
    MalformedReply,
    MissingName,
    NotImplementedByStudent,
    StudentException,
    StudentFailure,
)
from grader.judge.compare import Mismatch
from grader.judge.scoring import Award
from grader.wire import trees, values
from grader.wire.rules import describe_hit, kind_of

if TYPE_CHECKING:
    from grader.judge.run import SubmissionRun

__all__ = ["CallResult", "Handle", "ModuleResult", "Student", "generator"]

Handle = values.Handle


@dataclass
class CallResult:
    """What a student's function returned: its value, gradients per input, inputs after."""

    value: Any
    grads: dict[str, torch.Tensor | None] = field(default_factory=dict)
    grad_note: str | None = None
    inputs_after: Any = None
    tensor_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    duration_s: float = 0.0
    device: str = "cpu"
    """Where the call ran (float64 requests run on the CPU when the device is MPS)."""

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


def _encode(value: Any, tensors: dict[str, torch.Tensor],
            check: Callable[[Handle], None] = lambda h: None) -> Any:
    """A request's value tree as JSON; ``check`` vets each handle before it is sent."""
    def leaf(item: Any) -> Any:
        if isinstance(item, torch.Generator):
            raise TypeError("pass a seed with grader.judge.proxy.generator(seed), not a "
                            "torch.Generator")
        if isinstance(item, _GeneratorArg):
            return values.GeneratorSpec(item.seed, "same")
        if isinstance(item, Handle):
            check(item)
        return item

    return values.encode_value(trees.map_tree(value, leaf), tensors, {})


@dataclass(frozen=True)
class _GeneratorArg:
    seed: int


def generator(seed: int) -> Any:
    """An argument that becomes a ``torch.Generator`` seeded with ``seed`` in the executor."""
    return _GeneratorArg(int(seed))


class Student:
    """The submission as seen by one test."""

    def __init__(self, run: SubmissionRun, *, part: str, seed: int, hidden: bool,
                 test_id: str = "") -> None:
        self._run = run
        self.part = part
        self.seed = seed
        self.hidden = hidden
        self.test_id = test_id
        self.device = run.settings.device

    def device_for(self, dtype: torch.dtype | None) -> str:
        """Where a request in ``dtype`` runs: MPS has no float64, so float64 requests of an
        MPS run go to the CPU (as the curriculum's float64 tests do anyway)."""
        return "cpu" if self.device == "mps" and dtype == torch.float64 else self.device

    def _device_of(self, tensors: Mapping[str, torch.Tensor], dtype: str | None = None) -> str:
        if dtype == "float64" or any(t.dtype == torch.float64 for t in tensors.values()):
            return self.device_for(torch.float64)
        return self.device

    @property
    def request_timeout_s(self) -> float:
        """The deadline of this test's requests (its part's own where the manifest sets one)."""
        return self._run.timeout_for(self.part)

    def _preflight(self, name: str) -> None:
        run = self._run
        run.executor.refuse_timed_out(name)
        failed = run.prepared.failed_names().get(name)
        if failed:
            raise MissingName(f"`{name}` could not be loaded: {failed['message']}")
        for err in run.load_errors():
            if name in err.get("defines", []):
                raise MissingName(f"defining `{name}` raised {err['type']}: {err['message']} "
                                  f"(line {err.get('lineno')})",
                                  public_message=f"defining `{name}` raised {err['type']}")

    def _send(self, op: str, name: str, body: dict[str, Any], tensors: dict[str, torch.Tensor],
              device: str | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self._preflight(name)
        header = {"op": op, "name": name, "seed": self.seed, "device": device or self.device,
                  "forbidden": list(self._run.forbidden_patterns(self.part)), **body}
        reply, out = self._run.request(header, tensors, label=name, part=self.part)
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
            base = _SEPARATORS.split(str(last.get("file", "")))[-1]  # / or \\ (Windows)
            where = f" ({base} line {last.get('line')}: `{last.get('code', '')}`)"
        if kind == "not_implemented":
            return NotImplementedByStudent(f"`{name}` is not implemented yet")
        if kind in ("missing", "signature"):
            hint = self._run.expected_signature(name)
            text = str(err.get("message", "")) + (f"; expected `{name}{hint}`" if hint else "")
            return MissingName(text)
        if kind == "state_dict":
            return Mismatch("state_dict", f"load_state_dict on `{name}` failed: "
                                          f"{err.get('message')}")
        if kind == "handle":
            return HandleError(f"`{name}` was given a handle the executor does not know: "
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
             return_inputs: bool = False, grad_wrt: Sequence[int | str] | None = None,
             keep: bool = False, **kwargs: Any) -> CallResult:
        """Call the student's function ``name`` in the executor (``keep``: see the module).

        With ``grad``, every floating input requires grad, or only those ``grad_wrt`` names:
        positions of ``args`` and names of ``kwargs`` (a buffer such as a running mean is an
        input, not a leaf to differentiate).
        """
        extra: dict[str, Any] = {"return_inputs": return_inputs}
        if grad_wrt is not None:
            extra["grad_wrt"] = _grad_paths(grad_wrt, len(args), kwargs)
        return self._invoke("call", name, args, kwargs, grad=grad, upstream=upstream,
                            keep=keep, extra=extra)

    def harness(self, name: str, *args: Any, grad: bool = False, upstream: Any = None,
                keep: bool = False, **kwargs: Any) -> CallResult:
        """Call ``name`` from the homework's public harness with the student's module first."""
        return self._invoke("harness", name, args, kwargs, grad=grad, upstream=upstream,
                            keep=keep)

    def method(self, handle: Handle, name: str, *args: Any, grad: bool = False,
               upstream: Any = None, keep: bool = False, **kwargs: Any) -> CallResult:
        """Call the method ``name`` of the object ``handle`` stands for, in the executor."""
        if not isinstance(handle, Handle):
            raise TypeError(f"student.method needs a Handle (got {type(handle).__name__})")
        tensors: dict[str, torch.Tensor] = {}
        extra = {"handle": _encode(handle, tensors, self._check_handle)}
        return self._invoke("method", name, args, kwargs, grad=grad, upstream=upstream,
                            keep=keep, extra=extra, tensors=tensors)

    def _invoke(self, op: str, name: str, args: Sequence[Any], kwargs: Mapping[str, Any], *,
                grad: bool, upstream: Any, keep: bool, extra: Mapping[str, Any] | None = None,
                tensors: dict[str, torch.Tensor] | None = None) -> CallResult:
        tensors = {} if tensors is None else tensors
        check = self._check_handle
        body: dict[str, Any] = {"args": _encode(list(args), tensors, check),
                                "kwargs": _encode(dict(kwargs), tensors, check),
                                "grad": grad, "keep": keep, **(extra or {})}
        if upstream is not None:
            body["upstream"] = _encode(upstream, tensors, check)
        device = self._device_of(tensors)
        reply, out = self._send(op, name, body, tensors, device)
        result = _call_result(reply, out, device)
        if keep:
            self._register(name, result.value, out)
        return result

    def _register(self, name: str, value: Any, out: dict[str, torch.Tensor]) -> None:
        """Note a handle the executor answered a ``keep`` request with: valid until it restarts."""
        if not isinstance(value, Handle) or out:
            raise MalformedReply(f"`{name}` was asked to keep its result in the executor, but "
                                 "the reply held no handle")
        self._run.handles[value.token] = (self._run.executor.restarts, name)

    def _check_handle(self, handle: Handle) -> None:
        """Refuse a handle this submission's executor did not make, or made before a restart."""
        made = self._run.handles.get(handle.token)
        if made is None:
            raise HandleError(f"{handle!r} was not made by this submission's executor; refused")
        restarts, origin = made
        if restarts != self._run.executor.restarts:
            raise HandleError(f"the object `{origin}` returned is gone: the executor was "
                              "restarted after an earlier failure (a timeout or a crash), and "
                              "the objects kept in it died with it")

    def award(self, credit: float, message: str, **details: Any) -> None:
        """Grade this test by an outcome: it earns ``credit`` (0 to 1) of its points and shows
        ``message`` and ``details`` (to students too, for hidden tests as well: no inputs)."""
        self._run.awards[self.test_id] = Award(float(credit), message, dict(details))

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
            "dtype": values.dtype_name(dtype) if dtype else None,
            "initial_state": initial_state, "init_seed": init_seed,
            "steps": [{"mode": s.get("mode", "train"),
                       "inputs": _encode(list(s.get("inputs", [])), tensors),
                       "upstream": _encode(s["upstream"], tensors)
                       if s.get("upstream") is not None else None,
                       "return_state": bool(s.get("return_state"))} for s in steps]}
        if state_dict is not None:
            body["state_dict"] = _encode(dict(state_dict), tensors)
        reply, out = self._send("module", name, body, tensors,
                                self._device_of(tensors, body["dtype"]))
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


def _grad_paths(grad_wrt: Sequence[int | str], n_args: int, kwargs: Mapping[str, Any],
                ) -> list[str]:
    """The executor's paths (``args[0]``, ``kwargs.x``) of the inputs ``grad_wrt`` names."""
    paths = []
    for key in grad_wrt:
        if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < n_args:
            paths.append(f"args[{key}]")
        elif isinstance(key, str) and key in kwargs:
            paths.append(f"kwargs.{key}")
        else:
            raise ValueError(f"grad_wrt names {key!r}, which is neither the position of one of "
                             f"the {n_args} positional arguments nor a keyword of this call "
                             f"({', '.join(kwargs) or 'none'})")
    return paths


_SEPARATORS = re.compile(r"[\\/]")
_DEVICE_HINTS = (
    ("Expected all tensors to be on the same device",
     "a tensor was created on another device; create new tensors with device=x.device"),
    ("Torch not compiled with CUDA enabled",
     "a hard-coded .cuda(); use .to(x.device) so the code runs on any device"),
    ("Found no NVIDIA driver", "a hard-coded .cuda(); use .to(x.device)"),
    ("MPS framework doesn't support float64",
     "MPS has no float64: create new tensors with dtype=x.dtype, not float64"),
    ("for the MPS device",
     "this operator has no MPS kernel yet: run with --device cpu, or set "
     "PYTORCH_ENABLE_MPS_FALLBACK=1 to let torch run it on the CPU"),
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
        return values.decode_value(value, tensors)
    except values.FrameError as err:
        raise MalformedReply(f"the executor's reply was malformed: {err}") from None


def _call_result(reply: dict[str, Any], out: dict[str, torch.Tensor],
                 device: str = "cpu") -> CallResult:
    meta_by_key = reply.get("meta") or {}
    grads = _decode(reply.get("grads"), out) or {}
    if not isinstance(grads, dict):
        raise MalformedReply("the executor's gradients were not a mapping")
    return CallResult(value=_decode(reply.get("value"), out), grads=grads,
                      grad_note=reply.get("grad_note"),
                      inputs_after=_decode(reply.get("inputs_after"), out),
                      tensor_meta={id(out[k]): m for k, m in meta_by_key.items() if k in out},
                      duration_s=float(reply.get("duration_s") or 0.0), device=device)
