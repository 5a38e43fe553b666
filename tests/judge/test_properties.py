"""Property tests (Hypothesis) that keep classes of bugs out, not one instance each:

* the comparison's verdict on random tensors (shapes, dtypes, non-finite values, profiles)
  is torch.testing.assert_close's wherever their rules coincide (the same bounds);
* any byte string fed to the frame decoder is a FrameError or a valid message, never another
  exception, and the judge's memory stays bounded;
* any tree of tensors and Python values crosses the wire bit for bit;
* scores stay within [0, max] and a part's tests share exactly its points.

Run with ``--hypothesis-show-statistics`` to see how many examples each property ran.
"""

from __future__ import annotations

import json
import math
import struct
import tracemalloc
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.course.manifest import Homework, Part
from grader.judge import results as gr
from grader.judge.compare import PROFILES, Mismatch, assert_close, tolerance
from grader.judge.scoring import score_tests, total
from grader.wire import frames, messages, values

FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- the comparison against torch.testing -----------------------------------------------------

SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 1e300, 65504.0, 7e4, math.inf, -math.inf,
           math.nan]
FLOATS = st.one_of(st.floats(-1e6, 1e6, allow_nan=False, width=64), st.sampled_from(SPECIAL))
# How a student's element differs from the reference's (then rounded to the student's dtype).
CHANGES = {
    "same": lambda e: e, "tiny": lambda e: e * (1 + 1e-9) + 1e-12,
    "small": lambda e: e * (1 + 3e-6) + 3e-6, "large": lambda e: e * 1.01 + 0.01,
    "nan": lambda e: math.nan, "inf": lambda e: math.inf, "-inf": lambda e: -math.inf,
    "zero": lambda e: 0.0, "negated": lambda e: -e,
}
FLOAT_DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16]


@st.composite
def comparisons(draw: st.DrawFn) -> tuple[str, torch.Tensor, torch.Tensor]:
    """(profile, the student's tensor, the float64 reference): as a test compares them."""
    profile = draw(st.sampled_from(sorted(PROFILES)))
    shape = draw(st.lists(st.integers(0, 4), max_size=3))
    n = math.prod(shape)
    kind = draw(st.sampled_from(["float", "float", "float", "int", "bool"]))
    if kind == "int":
        want = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
        bumps = draw(st.lists(st.sampled_from([0, 0, 0, 1, -7]), min_size=n, max_size=n))
        return (profile, torch.tensor([w + b for w, b in zip(want, bumps)],
                                      dtype=torch.int64).reshape(shape),
                torch.tensor(want, dtype=torch.int64).reshape(shape))
    if kind == "bool":
        want = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        flips = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        return (profile, torch.tensor([w ^ f for w, f in zip(want, flips)],
                                      dtype=torch.bool).reshape(shape),
                torch.tensor(want, dtype=torch.bool).reshape(shape))
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    want = draw(st.lists(FLOATS, min_size=n, max_size=n))
    changes = draw(st.lists(st.sampled_from(sorted(CHANGES)), min_size=n, max_size=n))
    got = [CHANGES[c](w) for c, w in zip(changes, want)]
    return (profile, torch.tensor(got, dtype=torch.float64).reshape(shape).to(dtype),
            torch.tensor(want, dtype=torch.float64).reshape(shape))


@FAST
@given(comparisons())
def test_the_verdict_is_torch_testings_with_the_same_bounds(case):
    profile, actual, expected = case
    try:
        assert_close(actual, expected, name="x", profile=profile, dtype=actual.dtype)
        ours = None
    except Mismatch as mismatch:
        ours = mismatch
    tol = tolerance(profile, actual.dtype, expected)
    try:
        torch.testing.assert_close(actual.double() if actual.is_floating_point() else actual,
                                   expected, rtol=tol.rtol, atol=tol.atol,
                                   equal_nan=tol.equal_nan)
        theirs = None
    except AssertionError as error:
        theirs = error
    assert (ours is None) == (theirs is None), (profile, actual, expected, ours, theirs)
    assert ours is None or ours.stage == "values"


# -- the frame decoder ------------------------------------------------------------------------

KEYS = ["ok", "hello", "load", "errors", "names", "value", "meta", "grads", "steps", "error",
        "kind", "type", "message", "frames", "duration_s", "forbidden_used", "state_dict",
        "$t", "$tuple", "$dict", "$float", "$gen", "$dtype", "$unsupported", "t0", "op", "x"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=12)
    | st.sampled_from(["t0", "nan", "inf", "float32", "torch.Tensor", "cpu"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=25)


def _blob(draw: st.DrawFn) -> bytes:
    choice = draw(st.sampled_from(["none", "tensor", "bytes"]))
    if choice == "none":
        return b""
    if choice == "bytes":
        return draw(st.binary(max_size=256))
    parts, _ = frames._safetensors_parts({"t0": torch.arange(3.0)})
    return b"".join(bytes(p) for p in parts)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Frame bodies: random bytes, or a JSON header (maybe truncated, maybe with a lying
    length) and a blob, with some bytes flipped."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=1024))
    head = json.dumps(draw(JSON)).encode()
    if draw(st.booleans()):
        head = head[: draw(st.integers(0, len(head)))]
    body = bytearray(struct.pack(">I", draw(st.one_of(st.just(len(head)),
                                                       st.integers(0, 2**32 - 1)))))
    body += head + _blob(draw)
    for _ in range(draw(st.integers(0, 3))):
        if body:
            body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    return bytes(body)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(bodies(), st.sampled_from([
    b"", struct.pack(">I", 2) + b"{}", struct.pack(">I", 11) + b'{"ok": true}',
    struct.pack(">I", 12) + b'{"ok": false}'])))
def test_any_bytes_decode_to_a_frame_error_or_a_valid_message(body):
    tracemalloc.start()
    try:
        header, tensors = frames.unpack_frame(body)
    except values.FrameError:
        header = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak <= (1 << 20) + 64 * len(body), peak  # the judge's memory stays bounded
    if header is not None:
        assert messages.kind_of(header) in messages.JUDGE_RECEIVES
        assert all(type(t) is torch.Tensor for t in tensors.values())
        for key in ("value", "grads", "steps", "inputs_after", "state_dict"):
            if key in header:
                values.decode_value(header[key], tensors)


def test_the_worst_headers_under_the_cap_stay_bounded():
    """Headers of the cap's size built to cost the most: memory stays within a small multiple
    of the header (measured: under 30 MiB for 1 MiB) and the answer is a FrameError."""
    cap = frames.MAX_HEADER_BYTES
    worst = {
        "lists": '{"ok": true, "value": [' + ",".join(["[]"] * ((cap - 40) // 3)) + "]}",
        "objects": '{"ok": true, "value": [' + ",".join(['{"$t":"t"}'] * ((cap - 40) // 11))
                   + "]}",
        "deep": '{"ok": true, "value": ' + "[" * (cap // 2 - 20) + "]" * (cap // 2 - 20) + "}",
    }
    for name, text in worst.items():
        head = text.encode()
        assert len(head) <= cap, name
        tracemalloc.start()
        try:
            with pytest.raises(values.FrameError):
                frames.unpack_frame(struct.pack(">I", len(head)) + head)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 64 << 20, (name, peak)


# -- tensor trees round trip --------------------------------------------------------------------

@st.composite
def tensors(draw: st.DrawFn) -> torch.Tensor:
    dtype = draw(st.sampled_from(list(values.DTYPES.values())))
    shape = draw(st.lists(st.integers(0, 4), max_size=3))
    n = math.prod(shape)
    if dtype is torch.bool:
        t = torch.tensor(draw(st.lists(st.booleans(), min_size=n, max_size=n)),
                         dtype=torch.bool).reshape(shape)
    else:  # any bit pattern: nan payloads, -0.0, subnormals, infinities
        size = n * torch.empty((), dtype=dtype).element_size()
        raw = bytearray(draw(st.binary(min_size=size, max_size=size)))
        t = torch.frombuffer(raw, dtype=torch.uint8).view(dtype).reshape(shape).clone() \
            if size else torch.empty(shape, dtype=dtype)
    if t.dim() >= 2 and draw(st.booleans()):
        t = t.transpose(0, 1)  # a non-contiguous view
    elif t.dim() >= 1 and t.shape[0] > 1 and draw(st.booleans()):
        t = t[::2]
    return t


SCALARS = (st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.text(max_size=8)
           | st.floats(width=64) | st.sampled_from(list(values.DTYPES.values())))
TREES = st.recursive(tensors() | SCALARS,
                     lambda inner: st.lists(inner, max_size=3)
                     | st.lists(inner, max_size=3).map(tuple)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=12)


def _bits(t: torch.Tensor) -> bytes:
    flat = t.clone(memory_format=torch.contiguous_format).reshape(-1)
    return bytes(flat.view(torch.uint8).numpy()) if flat.numel() else b""


def assert_same_tree(got, sent) -> None:
    assert type(got) is type(sent), (type(got), type(sent))
    if isinstance(sent, torch.Tensor):
        assert got.dtype == sent.dtype and got.shape == sent.shape
        assert _bits(got) == _bits(sent)
    elif isinstance(sent, (list, tuple)):
        assert len(got) == len(sent)
        for g, s in zip(got, sent):
            assert_same_tree(g, s)
    elif isinstance(sent, dict):
        assert list(got) == list(sent)
        for key in sent:
            assert_same_tree(got[key], sent[key])
    elif isinstance(sent, float):
        assert math.isnan(got) and math.isnan(sent) or \
            struct.pack("<d", got) == struct.pack("<d", sent)
    else:
        assert got == sent


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(TREES)
def test_any_tensor_tree_round_trips_through_the_wire_bit_for_bit(tree):
    sent_tensors: dict[str, torch.Tensor] = {}
    meta: dict = {}
    obj = values.encode_value(tree, sent_tensors, meta)
    frame = frames.pack_frame({"ok": True, "value": obj, "meta": meta}, sent_tensors)
    header, got = frames.unpack_frame(frame[8:])
    assert_same_tree(values.decode_value(header["value"], got), tree)


# -- scores -----------------------------------------------------------------------------------

@st.composite
def gradings(draw: st.DrawFn):
    points = draw(st.lists(st.one_of(st.integers(0, 10).map(float),
                                     st.floats(0, 10, allow_nan=False)), min_size=1, max_size=5))
    parts = tuple(Part(name=f"p{i}", points=p) for i, p in enumerate(points))
    homework = Homework(id="hwx", title="x", file="x.py", parts=parts, root=Path("."))
    order, outcomes = [], {}
    for i, part in enumerate(parts):
        for j in range(draw(st.integers(1, 400 if i == 0 else 8))):
            test_id = f"t::{part.name}_{j}"
            weight = draw(st.sampled_from([1.0, 1.0, 2.0, 3.0, 0.5, 1e-3, 7.25]))
            order.append((test_id, part.name, "public", weight))
            status = draw(st.sampled_from([*gr.STATUSES, "not_implemented", None]))
            if status is not None:
                outcomes[test_id] = gr.TestResult(test_id, part.name, "public", 0.0, 0.0, status)
    return homework, order, outcomes


@FAST
@given(gradings())
def test_scores_stay_within_bounds_and_sum_per_part(case):
    homework, order, outcomes = case
    tests = score_tests(homework, order, outcomes)
    assert [t.id for t in tests] == [o[0] for o in order]
    for t in tests:
        assert 0 <= t.points <= t.max_points
        assert t.points == (t.max_points if t.status == "passed" else 0.0)
    for part in homework.parts:
        mine = [t for t in tests if t.part == part.name]
        assert math.isclose(sum(t.max_points for t in mine), part.points, abs_tol=1e-9)
        assert sum(t.points for t in mine) <= part.points + 1e-9
    score, max_score = total(tests)
    assert 0 <= score <= max_score and max_score == round(homework.max_score, 4)
    result = gr.SubmissionResult(assignment="hwx", submission={}, score=score,
                              max_score=max_score, status="graded", device="cpu",
                              isolation="process", versions={}, duration_s=0.0, tests=tests,
                              parts_order=tuple(p.name for p in homework.parts))
    for got, part in zip(result.parts(), homework.parts, strict=True):
        assert got.max_points == round(part.points, 4) and 0 <= got.points <= got.max_points
        if got.passed == got.total:
            assert got.points == got.max_points
