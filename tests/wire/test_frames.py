"""grader.wire.frames: data-only frames, caps, forged frames rejected, no pickle anywhere."""

from __future__ import annotations

import json
import math
import pickle
import socket
import struct

import pytest
import torch

from grader.wire import frames, values
from grader.wire.values import FrameError, Unsupported, decode_value, encode_value


def roundtrip(value):
    tensors: dict[str, torch.Tensor] = {}
    meta: dict = {}
    obj = encode_value(value, tensors, meta)
    frame = frames.pack_frame({"ok": True, "value": obj, "meta": meta}, tensors)
    header, got = frames.unpack_frame(frame[8:])
    return decode_value(header["value"], got), header["meta"]


def test_roundtrip_tree():
    value = {"a": [torch.arange(6).reshape(2, 3), (1, 2.5, None, True, "s")],
             "b": torch.randn(3, dtype=torch.float64), "d": torch.float32,
             "size": torch.Size([2, 3]), "f": [math.inf, -math.inf]}
    got, _ = roundtrip(value)
    assert set(got) == {"a", "b", "d", "size", "f"}
    assert torch.equal(got["a"][0], value["a"][0]) and got["a"][1] == (1, 2.5, None, True, "s")
    assert torch.equal(got["b"], value["b"]) and got["b"].dtype == torch.float64
    assert got["d"] is torch.float32 and got["size"] == (2, 3)
    assert got["f"] == [math.inf, -math.inf]
    assert math.isnan(roundtrip(math.nan)[0])


@pytest.mark.parametrize("dtype", list(values.DTYPES.values()))
def test_every_dtype_roundtrips(dtype):
    t = (torch.arange(6) % 2).to(dtype)
    got, meta = roundtrip(t)
    assert got.dtype == dtype and torch.equal(got, t)
    assert meta["t0"]["dtype"] == str(dtype).removeprefix("torch.")


def test_noncontiguous_and_grad_meta():
    base = torch.randn(4, 6, requires_grad=True)
    view = (base * 2).t()
    got, meta = roundtrip(view)
    assert torch.equal(got, view.detach())
    assert meta["t0"]["stride"] == list(view.stride())
    assert meta["t0"]["has_history"] and meta["t0"]["requires_grad"]
    assert not got.requires_grad and got.grad_fn is None


def test_unsupported_values_become_markers():
    got, _ = roundtrip([object(), {1: 2}, torch.Generator()])
    assert all(isinstance(v, Unsupported) for v in got)
    assert "object" in got[0].type_name and "non-string" in got[1].type_name


class Sneaky(torch.Tensor):
    def __eq__(self, other):  # noqa: D105
        return True

    __hash__ = torch.Tensor.__hash__


def test_tensor_subclass_is_stripped_and_recorded():
    evil = torch.zeros(3).as_subclass(Sneaky)
    got, meta = roundtrip(evil)
    assert type(got) is torch.Tensor
    assert meta["t0"]["type"].endswith("Sneaky")
    assert torch.equal(got, torch.zeros(3))


def test_forged_header_tags_rejected():
    for bad in ({"$t": "t9"}, {"$eval": "1+1"}, {"$t": 1}, {"a": 1, "b": 2},
                {"$float": "1e999"}, {"$dtype": "complex128"}, {"$pickle": "gASV"}):
        with pytest.raises(FrameError):
            decode_value(bad, {})


def test_deep_or_huge_trees_rejected():
    deep: object = 1
    for _ in range(values.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(FrameError, match="too deep"):
        decode_value(deep, {})
    with pytest.raises(FrameError, match="too large"):
        decode_value(list(range(values.MAX_NODES + 1)), {})


@pytest.mark.parametrize("body", [b"", b"\x00\x00", struct.pack(">I", 100) + b"{}",
                                  struct.pack(">I", 2) + b"[]", struct.pack(">I", 3) + b"{x}"])
def test_malformed_frames(body):
    with pytest.raises(FrameError):
        frames.unpack_frame(body)


def test_invalid_safetensors_blob():
    head = json.dumps({"ok": True}).encode()
    with pytest.raises(FrameError, match="safetensors"):
        frames.unpack_frame(struct.pack(">I", len(head)) + head + b"\x80\x04not safetensors")


def test_a_pickle_payload_is_never_unpickled():
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled!",))

    blob = pickle.dumps(Boom())
    head = b"{}"
    with pytest.raises(FrameError):
        frames.unpack_frame(struct.pack(">I", len(head)) + head + blob)


def test_recv_frame_refuses_over_the_cap_before_reading():
    a, b = socket.socketpair()
    try:
        big = {"x": torch.zeros(10_000)}
        frames.send_frame(a, {"ok": True}, big)
        with pytest.raises(FrameError, match="over the cap"):
            frames.recv_frame(b, max_bytes=1000)
    finally:
        a.close()
        b.close()


def test_recv_frame_roundtrip_and_eof():
    a, b = socket.socketpair()
    try:
        frames.send_frame(a, {"op": "call", "name": "f", "n": 3}, {"t0": torch.ones(2)})
        header, tensors = frames.recv_frame(b, max_bytes=1 << 20)
        assert header == {"op": "call", "name": "f", "n": 3}
        assert torch.equal(tensors["t0"], torch.ones(2))
        a.close()
        with pytest.raises(EOFError):
            frames.recv_frame(b, max_bytes=1 << 20)
    finally:
        b.close()


def test_unsendable_dtype():
    with pytest.raises(FrameError, match="cannot be sent"):
        values.dtype_name(torch.complex64)


@pytest.mark.parametrize("module", [frames, values])
def test_the_wire_has_no_pickle_path(module):
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"pickle", "marshal", "dill", "cloudpickle", "shelve"}
    called = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not called & {"torch.load", "eval", "exec", "pickle.loads"}


def test_tensor_blob_is_safetensors_for_every_shape():
    """The blob is written by the grader and read by the safetensors library: scalars, empty
    tensors, views and half-precision types come back exactly, in safetensors' format."""
    from safetensors.torch import load

    tensors = {"scalar": torch.tensor(2.5, dtype=torch.float64), "empty": torch.zeros(0, 3),
               "view": torch.arange(12.0).reshape(3, 4).t(), "bf16": torch.randn(5).bfloat16(),
               "half": torch.randn(2, 2).half(), "bool": torch.tensor([True, False, True])}
    frame = frames.pack_frame({"ok": True}, tensors)
    (hlen,) = struct.unpack(">I", frame[8:12])
    blob = frame[12 + hlen:]
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0 and json.loads(blob[8:8 + n])["bf16"]["dtype"] == "BF16"
    for name, got in load(blob).items():
        want = tensors[name]
        assert got.dtype == want.dtype and got.shape == want.shape and torch.equal(got, want), name


def _frame(header: bytes | str, blob: bytes = b"") -> bytes:
    head = header.encode() if isinstance(header, str) else header
    return struct.pack(">I", len(head)) + head + blob


def test_an_8_mib_header_is_refused_before_it_is_parsed():
    import tracemalloc

    body = _frame('{"ok": true, "value": [' + "0," * (4 << 20) + "0]}")
    assert len(body) > 8 << 20
    tracemalloc.start()
    try:
        with pytest.raises(FrameError, match="over the cap"):
            frames.unpack_frame(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # parsing it would have built millions of objects


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}"),
                                              ('{"$tuple":[', "]}")])
def test_a_deeply_nested_header_is_a_frame_error_not_a_recursion_error(opening, closing):
    depth = 30_000  # json.loads alone raises RecursionError past about a thousand
    text = '{"ok": true, "value": ' + opening * depth + "0" + closing * depth + "}"
    assert len(text) < frames.MAX_HEADER_BYTES
    with pytest.raises(FrameError, match="deeper than"):
        frames.unpack_frame(_frame(text))


def test_header_depth_sees_through_strings_and_escapes():
    depth = frames.header_depth
    assert depth('{"a": [1, {"b": []}]}') == 4
    assert depth('{"a": "[[[[{{{{"}') == 1
    assert depth('{"a": "\\" [[[[ \\\\", "b": [[]]}') == 3
    assert depth("[" * 100 + "]" * 100, limit=10) == 11
    with pytest.raises(FrameError, match="do not match"):
        depth('{"a": [}')


REPLY_TENSOR = {"t0": torch.ones(2)}


@pytest.mark.parametrize("header, words", [
    ({"ok": False, "error": "boom"}, "reply.error is str"),
    ({"ok": False}, "has no error"),
    ({"ok": "yes"}, "reply.ok is str"),
    ({"ok": True, "meta": [1]}, "reply.meta is list"),
    ({"ok": True, "meta": {"t0": {"type": "torch.Tensor"}}}, "reply.meta.t0 has no"),
    ({"ok": True, "duration_s": "fast"}, "reply.duration_s is str"),
    ({"ok": True, "duration_s": float("nan")}, "finite"),
    ({"ok": True, "forbidden_used": [1]}, "reply.forbidden_used[0] is int"),
    ({"ok": True, "grads": [1]}, "reply.grads is list"),
    ({"ok": True, "grads": {"$dict": {"args[0]": 3}}}, "reply.grads.$dict.args[0] is int"),
    ({"ok": True, "steps": [1]}, "reply.steps[0] is int"),
    ({"ok": True, "value": {"$t": "t9"}}, "reply.value: tensor key"),
    ({"ok": True, "pwned": 1}, "unknown key(s) pwned"),
    ({"ok": False, "error": {"kind": "x", "type": "E", "message": "m", "frames": [{}]}},
     "reply.error.frames[0] has no file"),
    ({"hello": True, "load": {"errors": "x", "names": {}}}, "greeting.load.errors is str"),
    ({"op": "call", "name": "f"}, "a request arrived where a greeting or reply"),
    ({"ok": True, "hello": True}, "found greeting and reply"),
    ({"value": 1}, "found none"),
])
def test_a_malformed_message_is_a_frame_error_naming_the_key(header, words):
    with pytest.raises(FrameError) as info:
        frames.unpack_frame(frames.pack_frame(header, REPLY_TENSOR)[8:])
    assert words in str(info.value)


def test_well_formed_replies_and_greetings_pass():
    meta = {"t0": {"type": "torch.Tensor", "device": "cpu", "requires_grad": False,
                   "has_history": False, "stride": [1], "dtype": "float32"}}
    for header in ({"ok": True, "value": {"$t": "t0"}, "meta": meta, "duration_s": 0.1,
                    "forbidden_used": [], "grads": {"$dict": {"args[0]": None}},
                    "grad_note": "no_history", "inputs_after": None},
                   {"ok": False, "error": {"kind": "exception", "type": "E", "message": "m",
                                           "frames": [{"file": "f.py", "line": None,
                                                       "name": "f", "code": "x"}],
                                           "stage": "backward"}},
                   {"ok": True, "state_meta": {"w": {"shape": [2], "dtype": "float32"}},
                    "steps": [{"$dict": {"output": {"$t": "t0"}, "grad_note": None,
                                         "state_dict": {"$dict": {"w": {"$t": "t0"}}}}}],
                    "state_dict": {"$dict": {"w": {"$t": "t0"}}}},
                   {"hello": True, "load": {"errors": [], "names": {"f": {"kind": "function",
                                                                          "params": ["x"],
                                                                          "signature": "(x)"}},
                                            "import_s": 0.01}}):
        got, tensors = frames.unpack_frame(frames.pack_frame(header, REPLY_TENSOR)[8:])
        assert got == header and torch.equal(tensors["t0"], torch.ones(2))


def test_the_executor_side_reads_configs_and_requests_only():
    a, b = socket.socketpair()
    try:
        frames.send_frame(a, {"ok": True})
        with pytest.raises(FrameError, match="a reply arrived where a config or request"):
            frames.recv_frame(b, max_bytes=1 << 20)
    finally:
        a.close()
        b.close()


def test_a_one_element_view_with_any_stride_is_sent():
    """One element counts as contiguous whatever its stride (found by the round-trip
    property): logits[:, target].diagonal() for one row, x[::2] of two elements."""
    for t in (torch.randn(1, 1, dtype=torch.float64).diagonal(),
              torch.arange(2, dtype=torch.float16)[::2], torch.arange(6.0).reshape(2, 3)[:1, 1:2]):
        got, _ = roundtrip(t)
        assert torch.equal(got, t) and got.dtype == t.dtype
