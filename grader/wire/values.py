"""Value trees on the wire: what a request's arguments and a reply's results may be, as JSON.

Values are trees of tensors, numbers, strings, None, lists, tuples and str-keyed dicts; each
tensor is replaced in the JSON by ``{"$t": key}`` and travels in the frame's safetensors blob
(``grader.wire.frames``); an object kept in the executor (a trained model) travels as its
handle, ``{"$h": token}``, never itself. ``decode_value`` checks every node against the schema:
anything else is a FrameError.

Both sides import this: standard library and torch only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["DTYPES", "FrameError", "GeneratorSpec", "Handle", "Unsupported", "decode_value",
           "dtype_name", "encode_value"]

MAX_DEPTH = 32
MAX_NODES = 100_000

DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

class FrameError(Exception):
    """A frame or value tree that breaks the protocol."""


_TOKEN = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Handle:
    """A reference to an object the executor keeps for later requests (a trained model).

    The token is 32 random hex digits drawn by the executor; the object never leaves it.
    """

    token: str

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not _TOKEN.fullmatch(self.token):
            raise FrameError("a handle's token must be 32 lowercase hex digits")

    def __repr__(self) -> str:
        return f"<handle {self.token[:8]}>"


def dtype_name(dtype: torch.dtype) -> str:
    """The protocol's name of a dtype (``float32``); unknown dtypes are a FrameError."""
    try:
        return _DTYPE_NAMES[dtype]
    except KeyError:
        raise FrameError(f"dtype {dtype} cannot be sent") from None


def encode_value(value: Any, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Any:
    """Turn a value tree into JSON, moving tensors (as contiguous CPU copies) into ``tensors``.

    ``meta`` receives, per tensor key, facts the judge checks but the bytes cannot carry:
    the original device, whether it required grad, its stride and the exact Python type.
    """
    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        plain = value.detach()
        if type(value) is not torch.Tensor:
            with torch._C.DisableTorchFunction():
                plain = torch.Tensor._make_subclass(torch.Tensor, plain)  # strip the subclass
        meta[key] = {
            "type": f"{type(value).__module__}.{type(value).__qualname__}",
            "device": str(plain.device),
            "requires_grad": bool(value.requires_grad),
            "has_history": value.grad_fn is not None,
            "stride": list(plain.stride()),
            "dtype": str(plain.dtype).removeprefix("torch."),
        }
        tensors[key] = plain.to("cpu", copy=True).contiguous()
        return {"$t": key}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$float": repr(value)}
    if isinstance(value, torch.dtype):
        return {"$dtype": dtype_name(value)}
    if isinstance(value, Handle):
        return {"$h": value.token}
    if isinstance(value, GeneratorSpec):
        return {"$gen": [value.seed, value.device]}
    if isinstance(value, torch.Size):
        return {"$tuple": [int(v) for v in value]}
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v, tensors, meta) for v in value]}
    if isinstance(value, list):
        return [encode_value(v, tensors, meta) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return {"$unsupported": "dict with non-string keys"}
        return {"$dict": {k: encode_value(v, tensors, meta) for k, v in value.items()}}
    if isinstance(value, torch.Generator):
        return {"$unsupported": "torch.Generator"}
    return {"$unsupported": f"{type(value).__module__}.{type(value).__qualname__}"}


class Unsupported:
    """A value the executor could not send (a numpy array, an object); the type stage fails."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unsupported) and other.type_name == self.type_name

    def __hash__(self) -> int:
        return hash(self.type_name)


class GeneratorSpec:
    """A request for a fresh ``torch.Generator`` seeded in the executor."""

    def __init__(self, seed: int, device: str = "cpu") -> None:
        self.seed = seed
        self.device = device


def decode_value(obj: Any, tensors: dict[str, torch.Tensor], *, _depth: int = 0,
                 _count: list[int] | None = None) -> Any:
    """Rebuild a value tree from JSON and the tensors of its frame, checking the schema."""
    count = _count if _count is not None else [0]
    count[0] += 1
    if _depth > MAX_DEPTH or count[0] > MAX_NODES:
        raise FrameError("value tree too deep or too large")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [decode_value(v, tensors, _depth=_depth + 1, _count=count) for v in obj]
    if not isinstance(obj, dict) or len(obj) != 1:
        raise FrameError(f"unexpected JSON node {type(obj).__name__}")
    (tag, payload), = obj.items()
    if tag == "$t":
        if not isinstance(payload, str) or payload not in tensors:
            raise FrameError(f"tensor key {payload!r} is not in the frame")
        return tensors[payload]
    if tag == "$tuple" and isinstance(payload, list):
        return tuple(decode_value(v, tensors, _depth=_depth + 1, _count=count) for v in payload)
    if tag == "$dict" and isinstance(payload, dict):
        return {str(k): decode_value(v, tensors, _depth=_depth + 1, _count=count)
                for k, v in payload.items()}
    if tag == "$float" and payload in ("nan", "inf", "-inf"):
        return float(payload)
    if tag == "$dtype" and payload in DTYPES:
        return DTYPES[payload]
    if tag == "$unsupported" and isinstance(payload, str):
        return Unsupported(payload[:200])
    if tag == "$gen" and isinstance(payload, list) and len(payload) == 2 \
            and type(payload[0]) is int and isinstance(payload[1], str):
        return GeneratorSpec(payload[0], payload[1])
    if tag == "$h" and isinstance(payload, str):
        return Handle(payload)  # a FrameError unless 32 hex digits
    raise FrameError(f"unknown tag {tag!r}")
