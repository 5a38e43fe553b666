"""The frames between the judge and the executor: data only, never pickles.

A frame is ``8-byte length | 4-byte header length | JSON header | safetensors blob``. The
header is a message (``grader.wire.messages``) whose values are trees
(``grader.wire.values``); the tensors travel in the blob. The judge parses replies with a size
cap, rebuilds tensors with safetensors (so each is a plain ``torch.Tensor`` made from bytes) and
checks the message against its kind; anything else is a FrameError, a MalformedReply for the test.

``unpack_frame`` is the one decoder of frames. Before the JSON header is parsed its size is
capped (``MAX_HEADER_BYTES``) and its nesting measured by a scan that never recurses
(``MAX_HEADER_DEPTH``), so a huge or deeply nested header costs neither memory nor a
RecursionError; then the message is checked against its kind.

Both sides import this: standard library, torch and safetensors only.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Collection
from typing import Any, Protocol

import torch
from safetensors.torch import load as _st_load

from grader.wire import messages
from grader.wire.reader import HEAD, FrameTooLarge, read_frame
from grader.wire.values import MAX_DEPTH, FrameError, decode_value

__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_HEADER_DEPTH",
    "PipeStream",
    "Stream",
    "pack_frame",
    "recv_frame",
    "send_frame",
    "unpack_frame",
]

MAX_HEADER_BYTES = 1 << 20
"""The largest JSON header a frame may carry (tensors travel beside it, not in it)."""
MAX_HEADER_DEPTH = 2 * MAX_DEPTH + 8
"""The deepest nesting of a header: a value tree of MAX_DEPTH, two JSON levels per tuple or
dict, inside a reply's envelope."""
EXECUTOR_RECEIVES = ("config", "request")
_ST_DTYPES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32",
              torch.float64: "F64", torch.int8: "I8", torch.int16: "I16", torch.int32: "I32",
              torch.int64: "I64", torch.uint8: "U8", torch.bool: "BOOL"}


def _safetensors_parts(tensors: dict[str, torch.Tensor]) -> tuple[list[Any], int]:
    """The safetensors encoding of ``tensors`` as buffers to join, and its length: an 8-byte
    little-endian header length, the JSON header padded to 8 bytes, then each tensor's bytes.
    Written here because ``safetensors.torch.save`` spends a tenth of a millisecond per call
    checking for shared storage; reading stays with safetensors' own parser."""
    entries: dict[str, Any] = {}
    buffers: list[Any] = []
    offset = 0
    for key, t in tensors.items():
        if t.device.type != "cpu" or not t.is_contiguous() or t.dtype not in _ST_DTYPES:
            t = t.to("cpu").contiguous()
        if t.dtype not in _ST_DTYPES:
            raise FrameError(f"dtype {t.dtype} cannot be sent")
        size = t.numel() * t.element_size()
        entries[key] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + size]}
        if size:
            flat = t.reshape(-1)
            if flat.stride(0) != 1:  # one element counts as contiguous whatever its stride
                flat = flat.clone(memory_format=torch.contiguous_format)
            buffers.append(flat.view(torch.uint8).numpy())
        offset += size
    head = json.dumps(entries, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    return [struct.pack("<Q", len(head)), head, *buffers], 8 + len(head) + offset


def pack_frame(header: dict[str, Any], tensors: dict[str, torch.Tensor] | None = None) -> bytes:
    """Serialise a header and its tensors into one frame."""
    head = json.dumps(header, allow_nan=True).encode()
    parts, size = _safetensors_parts(tensors) if tensors else ([], 0)
    return b"".join([HEAD.pack(4 + len(head) + size, len(head)), head, *parts])


_ESCAPE = re.compile(r"\\.", re.S)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_PAIR = re.compile(r"\[\]|\{\}")


def header_depth(text: str, limit: int = MAX_HEADER_DEPTH) -> int:
    """How deeply the arrays and objects of JSON ``text`` nest (``limit + 1`` once past it),
    without parsing it: escapes out, then strings, then innermost ``[]``/``{}`` pairs peeled
    off, one pass per level. Linear per pass, no recursion, no objects built."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    depth = 0
    while brackets and depth <= limit:
        if re.search(f"[\\[{{]{{{limit - depth + 1}}}", brackets):  # so many openings in a row
            return limit + 1
        peeled = _PAIR.sub("", brackets)
        if len(peeled) == len(brackets):
            raise FrameError("header is not JSON: its brackets do not match")
        brackets, depth = peeled, depth + 1
    return depth


def _parse_header(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("header is not UTF-8") from None
    if header_depth(text) > MAX_HEADER_DEPTH:
        raise FrameError(f"header nests deeper than {MAX_HEADER_DEPTH} levels")
    try:
        header = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise FrameError(f"header is not JSON: {str(err)[:200]}") from None
    if not isinstance(header, dict):
        raise FrameError("header is not an object")
    return header


def unpack_frame(body: bytes, *, accept: Collection[str] = messages.JUDGE_RECEIVES,
                 ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Parse a frame body (without its 8-byte length) into a header and plain tensors.

    The header must be a message of a kind in ``accept`` (by default what the judge reads:
    a greeting or a reply) with the keys and types of its kind; anything else is a
    FrameError.
    """
    if len(body) < 4:
        raise FrameError("truncated frame")
    (hlen,) = struct.unpack(">I", body[:4])
    if hlen > len(body) - 4:
        raise FrameError("header longer than the frame")
    if hlen > MAX_HEADER_BYTES:  # before even slicing it out
        raise FrameError(f"header of {hlen} bytes is over the cap of {MAX_HEADER_BYTES}")
    header = _parse_header(body[4 : 4 + hlen])
    blob = body[4 + hlen :]
    tensors: dict[str, torch.Tensor] = {}
    if blob:
        try:
            tensors = dict(_st_load(blob))
        except Exception as err:  # safetensors raises its own error types
            raise FrameError(f"tensor payload is not valid safetensors ({type(err).__name__})") from None
    for key, t in tensors.items():
        if type(t) is not torch.Tensor:
            raise FrameError(f"tensor {key} is not a plain torch.Tensor")
    def check_value(value: Any) -> None:
        try:
            decode_value(value, tensors)
        except FrameError as err:
            raise messages.MessageError(str(err)) from None

    try:
        messages.check_message(header, accept, check_value)
    except messages.MessageError as err:
        raise FrameError(str(err)) from None
    return header, tensors


class Stream(Protocol):
    """What frames travel on: a connected stream socket, or a pair of pipes (PipeStream)."""

    def sendall(self, data: bytes, /) -> Any: ...

    def recv(self, n: int, /) -> bytes: ...


class PipeStream:
    """A Stream over two file descriptors (the portable executor's stdin and stdout pipes):
    the same frames as on a socket, on every platform."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.write_fd, view[: 1 << 20]):]

    def recv(self, n: int) -> bytes:
        return os.read(self.read_fd, n)


def send_frame(sock: Stream, header: dict[str, Any],
               tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Send one frame on a stream."""
    sock.sendall(pack_frame(header, tensors))


def _recv_exact(sock: Stream, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: Stream, *, max_bytes: int,
               accept: Collection[str] = EXECUTOR_RECEIVES,
               ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Receive one frame, refusing one larger than ``max_bytes`` before reading its body.

    By default the frame must be what the executor side reads (a config or a request)."""
    try:
        body = read_frame(lambda n: _recv_exact(sock, n), max_bytes)
    except FrameTooLarge as err:
        raise FrameError(str(err)) from None
    return unpack_frame(body, accept=accept)

