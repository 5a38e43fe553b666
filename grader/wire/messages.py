"""The shape of every message on the wire, checked once, where a frame is decoded.

Six kinds of message, told apart by one key:

========  ============  ==========================================================
kind      key           sent by
========  ============  ==========================================================
ready     ready         a portable executor, once it has imported torch (a warm spare)
sandbox   sandbox       the judge, to a portable executor: its confinement settings
config    submission    the judge, once per executor: the submission and the harness
request   op            the judge: call a function, run a module, call a harness helper
greeting  hello         the executor, once it has imported the submission
reply     ok            the executor, one per request
========  ============  ==========================================================

Once the submission is imported the executor is untrusted, so a greeting or a reply is
checked key by key and type by type (unknown keys included), and every value tree in it is
decoded once to check its tags and tensors. ``grader.wire.frames.unpack_frame`` calls
``check_message``: a malformed reply is a FrameError there, which fails that test, and never
an AttributeError in the middle of a test. Requests and configs come from the judge itself
and are only told apart.

Standard library only: the executor template imports this through ``grader.wire.frames``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

__all__ = ["JUDGE_RECEIVES", "KINDS", "MessageError", "check_message", "kind_of"]

KINDS = {"ready": "ready", "sandbox": "sandbox", "config": "submission", "request": "op",
         "greeting": "hello", "reply": "ok"}
JUDGE_RECEIVES = ("greeting", "reply")
"""What the judge reads from an executor: the default of ``unpack_frame``."""

ValueCheck = Callable[[Any], Any]
Spec = Callable[[Any, str, ValueCheck], None]


class MessageError(ValueError):
    """A message whose keys or types are not those of its kind."""


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _scalar(*types: type, what: str) -> Spec:
    def check(value: Any, where: str, _: ValueCheck) -> None:
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            raise MessageError(f"{where} is {_type_name(value)}, expected {what}")
        if isinstance(value, float) and not math.isfinite(value):
            raise MessageError(f"{where} is {value}, expected a finite number")
    return check


BOOL = _scalar(bool, what="a boolean")
INT = _scalar(int, what="an integer")
NUMBER = _scalar(int, float, what="a number")
STR = _scalar(str, what="a string")


def ANY(value: Any, where: str, values: ValueCheck) -> None:
    """Anything (what the judge itself sends)."""


def _optional(spec: Spec) -> Spec:
    def check(value: Any, where: str, values: ValueCheck) -> None:
        if value is not None:
            spec(value, where, values)
    return check


def _list(item: Spec) -> Spec:
    def check(value: Any, where: str, values: ValueCheck) -> None:
        if not isinstance(value, list):
            raise MessageError(f"{where} is {_type_name(value)}, expected a list")
        for i, v in enumerate(value):
            item(v, f"{where}[{i}]", values)
    return check


def _map(item: Spec) -> Spec:
    def check(value: Any, where: str, values: ValueCheck) -> None:
        if not isinstance(value, dict):
            raise MessageError(f"{where} is {_type_name(value)}, expected an object")
        for k, v in value.items():
            item(v, f"{where}.{k}", values)
    return check


def _record(required: Mapping[str, Spec], optional: Mapping[str, Spec] | None = None, *,
            open_: bool = False) -> Spec:
    """An object with these keys (and, unless ``open_``, no others)."""
    known = {**required, **(optional or {})}

    def check(value: Any, where: str, values: ValueCheck) -> None:
        if not isinstance(value, dict):
            raise MessageError(f"{where} is {_type_name(value)}, expected an object")
        missing = [k for k in required if k not in value]
        if missing:
            raise MessageError(f"{where} has no {', '.join(missing)}")
        unknown = sorted(k for k in value if k not in known)
        if unknown and not open_:
            raise MessageError(f"{where} has unknown key(s) {', '.join(unknown)}")
        for key, spec in known.items():
            if key in value:
                spec(value[key], f"{where}.{key}", values)
    return check


def _tagged(tag: str, payload: Spec) -> Spec:
    """A value tree's node ``{tag: payload}`` (``{"$dict": {...}}``)."""
    return _record({tag: payload})


def _value(shape: Spec | None = None) -> Spec:
    """A value tree: decoded once (tags, tensor keys, depth), and of ``shape`` if given."""
    def check(value: Any, where: str, values: ValueCheck) -> None:
        if shape is not None:
            shape(value, where, values)
        try:
            values(value)
        except MessageError as err:
            raise MessageError(f"{where}: {err}") from None
    return check


TENSOR = _tagged("$t", STR)
GRADS = _value(_tagged("$dict", _map(_optional(TENSOR))))
STATE = _value(_tagged("$dict", _map(TENSOR)))
FRAME = _record({"file": STR, "line": _optional(INT), "name": STR, "code": STR})
ERROR = _record({"kind": STR, "type": STR, "message": STR, "frames": _list(FRAME)},
                {"stage": STR})
FORBIDDEN_HIT = _record({"rule": STR, "call": _optional(STR), "line": _optional(INT)})
META = _record({"type": STR, "device": STR, "requires_grad": BOOL, "has_history": BOOL,
                "stride": _list(INT), "dtype": STR})
STEP = _tagged("$dict", _record({}, {"output": _value(), "input_grads": GRADS,
                                     "param_grads": GRADS, "grad_note": _optional(STR),
                                     "state_dict": STATE}))
REPLY = _record({"ok": BOOL}, {
    "error": ERROR, "forbidden_used": _list(FORBIDDEN_HIT), "duration_s": NUMBER,
    "meta": _map(META),
    "value": _value(), "grads": GRADS, "grad_note": _optional(STR), "inputs_after": _value(),
    "steps": _value(_list(STEP)), "state_dict": STATE, "initial_state": STATE,
    "state_meta": _map(_record({"shape": _list(INT), "dtype": STR}))})
LOAD_ERROR = _record({"kind": STR, "type": STR, "message": STR, "frames": _list(FRAME),
                      "lineno": INT, "defines": _list(STR)})
NAME = _record({"kind": STR}, {"params": _optional(_list(STR)), "signature": STR})
GREETING = _record({"hello": BOOL, "load": _record(
    {"errors": _list(LOAD_ERROR), "names": _map(NAME)}, {"import_s": NUMBER})})
REQUEST = _record({"op": STR, "name": STR}, open_=True)
CONFIG = _record({"submission": _map(ANY)}, {"harness": _optional(_map(ANY))})
READY = _record({"ready": BOOL, "pid": INT, "versions": _map(STR), "isolation": STR})
SANDBOX = _record({"sandbox": _map(ANY)})
_SPECS = {"ready": READY, "sandbox": SANDBOX, "config": CONFIG, "request": REQUEST,
          "greeting": GREETING, "reply": REPLY}


def kind_of(header: Mapping[str, Any]) -> str:
    """The kind of a message, from the one key that names it."""
    kinds = [kind for kind, key in KINDS.items() if key in header]
    if len(kinds) != 1:
        found = " and ".join(kinds) or "none"
        raise MessageError(f"a message must be exactly one of {', '.join(KINDS)} "
                           f"(found {found})")
    return kinds[0]


def check_message(header: dict[str, Any], accept: Collection[str],
                  check_value: ValueCheck) -> str:
    """Check ``header`` against its kind, which must be in ``accept``; return the kind.

    ``check_value`` decodes one value tree (with the frame's tensors) or raises
    MessageError.
    """
    kind = kind_of(header)
    if kind not in accept:
        raise MessageError(f"a {kind} arrived where a {' or '.join(accept)} was expected")
    _SPECS[kind](header, kind, check_value)
    if kind == "reply" and header["ok"] is False and "error" not in header:
        raise MessageError("reply.ok is false but the reply has no error")
    return kind
