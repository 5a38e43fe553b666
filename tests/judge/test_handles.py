"""Handles: an object kept in the executor (a trained model) stands in requests for itself.

On the wire a handle is ``{"$h": token}`` and nothing else; the executor answers a ``keep``
request with a handle, not the object; a handle passed back is the kept object there; one
made before a restart, by another submission's executor, or never made, is refused.
"""

from __future__ import annotations

import secrets
import textwrap
import types
from pathlib import Path

import pytest
import torch

from grader.api import grade_prepared, homework_settings, open_template
from grader.course.manifest import load_course
from grader.course.submission import prepare_submission
from grader.executor import child
from grader.executor.ops import KEPT, RequestContext
from grader.judge.proxy import Handle
from grader.wire import frames, values

# -- the wire -----------------------------------------------------------------------------------

def test_a_handle_travels_as_its_token_only():
    handle = Handle(secrets.token_hex(16))
    tensors: dict[str, torch.Tensor] = {}
    encoded = values.encode_value([handle, {"model": handle}], tensors, {})
    assert encoded == [{"$h": handle.token}, {"$dict": {"model": {"$h": handle.token}}}]
    assert tensors == {}
    assert values.decode_value(encoded, {}) == [handle, {"model": handle}]


@pytest.mark.parametrize("node", [{"$h": 5}, {"$h": "abc"}, {"$h": "0" * 31}, {"$h": "A" * 32},
                                  {"$h": "g" * 32}, {"$h": ["0" * 32]}, {"$h": None},
                                  {"$h": "0" * 32, "$t": "t0"}])
def test_off_schema_handles_are_refused(node):
    with pytest.raises(values.FrameError):
        values.decode_value(node, {})


# -- the executor's side ------------------------------------------------------------------------

SOURCE = """
import torch

def make(n):
    torch.manual_seed(0)
    return torch.nn.Linear(n, 2).double()

def apply(model, x):
    return model(x)
"""


def _answer(module: types.ModuleType, header: dict, tensors: dict | None = None):
    ctx = RequestContext(module=module, harness=None, header={"kwargs": {"$dict": {}}, **header},
                         tensors=tensors or {}, device="cpu", filenames=set())
    return child._answer(ctx)


@pytest.fixture
def module() -> types.ModuleType:
    mod = types.ModuleType("submission")
    exec(compile(SOURCE, "submission.py", "exec"), mod.__dict__)
    return mod


def test_a_kept_model_never_crosses_the_wire(module):
    reply, out = _answer(module, {"op": "call", "name": "make", "args": [3], "keep": True})
    assert reply["ok"] and out == {}
    token = reply["value"]["$h"]
    model = KEPT.get(Handle(token))
    assert isinstance(model, torch.nn.Linear)
    frame = frames.pack_frame(reply, out)
    for p in model.parameters():
        assert p.detach().numpy().tobytes() not in frame
    # the same request without keep tries to send the model, and cannot
    plain, _ = _answer(module, {"op": "call", "name": "make", "args": [3]})
    assert plain["value"] == {"$unsupported": "torch.nn.modules.linear.Linear"}


def test_a_handle_is_the_kept_object_in_later_requests(module):
    reply, _ = _answer(module, {"op": "call", "name": "make", "args": [3], "keep": True})
    handle = {"$h": reply["value"]["$h"]}
    x = torch.randn(4, 3, dtype=torch.float64)
    want = KEPT.get(Handle(handle["$h"]))(x)
    by_method, out = _answer(module, {"op": "method", "name": "forward", "handle": handle,
                                      "args": [{"$t": "x"}]}, {"x": x})
    torch.testing.assert_close(values.decode_value(by_method["value"], out), want)
    as_arg, out = _answer(module, {"op": "call", "name": "apply", "args": [handle, {"$t": "x"}]},
                          {"x": x})
    torch.testing.assert_close(values.decode_value(as_arg["value"], out), want)


def test_the_executor_refuses_a_token_it_never_made(module):
    reply, _ = _answer(module, {"op": "method", "name": "forward",
                                "handle": {"$h": secrets.token_hex(16)}, "args": []})
    assert not reply["ok"] and reply["error"]["kind"] == "handle"


def test_a_method_call_names_only_public_methods(module):
    reply, _ = _answer(module, {"op": "call", "name": "make", "args": [3], "keep": True})
    refused, _ = _answer(module, {"op": "method", "name": "__reduce__",
                                  "handle": reply["value"], "args": []})
    assert not refused["ok"] and "not a public method" in refused["error"]["message"]


# -- end to end, through the real grader --------------------------------------------------------

COURSE_TOML = """
[course]
name = "handles"

[hw.hwk]
title = "kept objects"
file = "mod.py"

[hw.hwk.parts]
make_scaler = 1
crash = 1
forged = 1
"""

SOLUTION = '''
import os

import torch


class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return self.k * x


def make_scaler(k):
    return Scaler(k)


def use(scaler, x):
    return scaler.apply(x)


def make_tensor():
    return torch.full((1000,), 7.0)


def total(t):
    return t.sum()


def crash():
    os._exit(3)
'''

HARNESS = '''
def twice(mod, scaler, x):
    return 2 * scaler.apply(x)
'''

SUITE = '''
import pytest
import torch

from grader.errors import ExecutorCrash
from grader.judge.proxy import Handle

FIRST = []  # a handle kept across submissions, as a buggy test might


@pytest.mark.part("make_scaler")
def test_round_trip(student):
    made = student.call("make_scaler", 3.0, keep=True)
    handle = made.value
    assert isinstance(handle, Handle) and made.tensor_meta == {}
    x = torch.arange(4.0)
    assert torch.equal(student.method(handle, "apply", x).value, 3 * x)
    assert torch.equal(student.call("use", handle, x).value, 3 * x)
    assert torch.equal(student.harness("twice", handle, x).value, 6 * x)


@pytest.mark.part("make_scaler")
def test_a_kept_tensor_stays_too(student):
    kept = student.call("make_tensor", keep=True)
    assert isinstance(kept.value, Handle) and kept.tensor_meta == {}
    assert float(student.call("total", kept.value).value) == 7000.0


@pytest.mark.part("crash")
def test_dead_after_a_restart(student):
    handle = student.call("make_scaler", 2.0, keep=True).value
    with pytest.raises(ExecutorCrash):
        student.call("crash")
    student.method(handle, "apply", torch.ones(2))


@pytest.mark.part("forged")
def test_never_made(student):
    student.method(Handle("0" * 32), "apply", torch.ones(2))


@pytest.mark.part("forged")
def test_believed_by_the_judge_but_unknown_to_the_executor(student):
    forged = Handle("f" * 32)
    student._run.handles[forged.token] = (student._run.executor.restarts, "make_scaler")
    student.method(forged, "apply", torch.ones(2))


@pytest.mark.part("forged")
def test_a_handle_of_another_submission(student):
    FIRST.append(student.call("make_scaler", 1.0, keep=True).value)
    student.method(FIRST[0], "apply", torch.ones(2))
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("handles")
    files = {"course.toml": COURSE_TOML, "assignments/hwk/mod.py": SOLUTION,
             "solutions/hwk/mod.py": SOLUTION, "reference_tests/hwk/harness.py": HARNESS,
             "reference_tests/hwk/public/test_kept.py": SUITE}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    course = load_course(root)
    hw = course.homework("hwk")
    settings = homework_settings(course, hw, {})
    with open_template(hw, settings) as template:
        subs = [prepare_submission(Path(root / "solutions/hwk/mod.py"), hw, student_id=s)
                for s in ("first", "second")]
        results = grade_prepared(hw, settings, template, subs, course_root=root)
    return [{t.id.rsplit("::", 1)[-1]: t for t in r.tests} for r, _ in results]


def test_handles_round_trip_through_the_grader(graded):
    for tests in graded:
        assert tests["test_round_trip"].status == "passed", tests["test_round_trip"].message
        assert tests["test_a_kept_tensor_stays_too"].status == "passed"


def _refused(test, words: str) -> None:
    assert (test.status, test.stage) == ("error", "handle"), (test.status, test.message)
    assert words in test.message, test.message


def test_a_handle_dies_with_its_executor(graded):
    _refused(graded[0]["test_dead_after_a_restart"], "the object `make_scaler` returned is gone")


def test_a_handle_the_executor_did_not_make_is_refused(graded):
    _refused(graded[0]["test_never_made"], "was not made by this submission's executor")
    _refused(graded[0]["test_believed_by_the_judge_but_unknown_to_the_executor"],
             "handle the executor does not know")


def test_a_handle_of_another_submission_is_refused(graded):
    assert graded[0]["test_a_handle_of_another_submission"].status == "passed"
    _refused(graded[1]["test_a_handle_of_another_submission"],
             "was not made by this submission's executor")
