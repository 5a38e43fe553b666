"""grader.judge.proxy, against a fake executor (no sandbox, no process): the request each call
builds, where it is routed, how each failure the executor reports becomes a StudentFailure
with its status, stage and message, and how handles are vetted before anything is sent.

Every request is checked against the wire's schema (as the executor reads it), and every
reply passes through a frame (as the judge reads it)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.config import Settings
from grader.course.manifest import Homework, Part
from grader.course.submission import prepare_submission
from grader.errors import (
    ExecutorCrash,
    ForbiddenCall,
    HandleError,
    MalformedReply,
    MissingName,
    NotImplementedByStudent,
    RequestTimeout,
    StudentException,
)
from grader.judge.compare import Mismatch
from grader.judge.proxy import Handle, Student, generator
from grader.judge.run import SubmissionRun
from grader.judge.scoring import Award
from grader.wire import frames, values

SOURCE = """\
import torch

def double(x, dim=-1):
    return 2 * x

def train(x, y):
    return x

class Net(torch.nn.Module):
    pass
"""
HOMEWORK = dict(id="hwx", title="x", file="mod.py",
                parts=(Part("double", 1.0, forbidden=("torch.mul", "aten.mul")),
                       Part("train", 2.0, request_timeout_s=60.0),
                       Part("net", 1.0, kind="class")))


class FakeExecutor:
    """Answers each request with the next reply given; records what it was sent."""

    def __init__(self, *replies: tuple[dict[str, Any], dict[str, torch.Tensor]],
                 load_errors: list[dict[str, Any]] | None = None) -> None:
        self.replies = list(replies)
        self.sent: list[tuple[dict[str, Any], dict[str, torch.Tensor], float, str]] = []
        self.restarts = 0
        self.timed_out: dict[str, float] = {}
        self.load = {"errors": load_errors or [], "names": {}}

    def start(self) -> dict[str, Any]:
        return self.load

    def refuse_timed_out(self, label: str) -> None:
        if label in self.timed_out:
            raise RequestTimeout(f"`{label}` timed out earlier")

    def request(self, header: dict[str, Any], tensors: dict[str, torch.Tensor], *,
                timeout_s: float, label: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        # what the executor would read: a request of the wire's schema
        header, tensors = frames.unpack_frame(frames.pack_frame(header, tensors)[8:],
                                              accept=("request",))
        self.sent.append((header, tensors, timeout_s, label))
        return self.replies.pop(0)


def reply(ok: bool = True, error: dict[str, Any] | None = None,
          forbidden_used: list[dict[str, Any]] | None = None, **body: Any,
          ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """A reply as the executor's child encodes it, read back through a frame."""
    out: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    header: dict[str, Any] = {"ok": ok, "forbidden_used": forbidden_used or [],
                              "duration_s": 0.25}
    if error is not None:
        header["error"] = {"type": "", "message": "", "frames": [], **error}
    for key, value in body.items():
        header[key] = values.encode_value(value, out, meta) if key not in (
            "grad_note", "state_meta") else value
    header["meta"] = meta
    return frames.unpack_frame(frames.pack_frame(header, out)[8:])


@pytest.fixture
def make_student(tmp_path: Path):
    """``make_student(*replies, part=..., device=..., **settings)``: a Student over a real
    SubmissionRun whose executor is a FakeExecutor."""
    (tmp_path / "mod.py").write_text(SOURCE, encoding="utf-8")

    def make(*replies, part: str = "double", load_errors=None, source: str | None = None,
             test_id: str = "t::a", **settings: Any) -> Student:
        if source is not None:
            (tmp_path / "mod.py").write_text(source, encoding="utf-8")
        homework = Homework(root=tmp_path, **HOMEWORK)
        prepared = prepare_submission(tmp_path / "mod.py", homework)
        run = SubmissionRun(prepared, homework, replace(Settings(), **settings),
                            FakeExecutor(*replies, load_errors=load_errors),
                            {"double": "(x, dim=-1)"})
        return Student(run, part=part, seed=1234, hidden=False, test_id=test_id)

    return make


def sent(student: Student) -> tuple[dict[str, Any], dict[str, torch.Tensor], float, str]:
    return student._run.executor.sent[-1]


# -- the request --------------------------------------------------------------------------------

def test_a_call_sends_its_name_seed_device_forbidden_list_and_arguments(make_student):
    x = torch.arange(3.0)
    student = make_student(reply(value=2 * x))
    result = student.call("double", x, dim=0)
    header, tensors, timeout_s, label = sent(student)
    assert (header["op"], header["name"], header["seed"], header["device"]) == (
        "call", "double", 1234, "cpu")
    assert header["forbidden"] == ["torch.mul", "aten.mul"]
    assert (header["grad"], header["keep"], header["return_inputs"]) == (False, False, False)
    assert "upstream" not in header and "grad_wrt" not in header
    (arg,) = values.decode_value(header["args"], tensors)
    assert torch.equal(arg, x)
    assert values.decode_value(header["kwargs"], tensors) == {"dim": 0}
    assert (timeout_s, label) == (Settings().request_timeout_s, "double")
    assert torch.equal(result.value, 2 * x) and result.duration_s == 0.25


def test_gradients_upstream_and_grad_wrt_are_asked_for_by_path(make_student):
    x, g = torch.ones(2), torch.full((2,), 3.0)
    student = make_student(reply(value=2 * x, grads={"args[0]": 2 * g}, grad_note=None))
    result = student.call("double", x, dim=0, grad=True, upstream=g, grad_wrt=(0, "dim"),
                          return_inputs=True)
    header, tensors, _, _ = sent(student)
    assert header["grad"] is True and header["return_inputs"] is True
    assert header["grad_wrt"] == ["args[0]", "kwargs.dim"]
    assert torch.equal(values.decode_value(header["upstream"], tensors), g)
    assert set(result.grads) == {"args[0]"} and torch.equal(result.grads["args[0]"], 2 * g)


def test_each_part_sends_its_own_forbidden_list_and_deadline(make_student):
    student = make_student(reply(value=1), part="train", request_timeout_s=5.0)
    student.call("train", 1, 2)
    header, _, timeout_s, _ = sent(student)
    assert header["forbidden"] == [] and timeout_s == 60.0 == student.request_timeout_s
    student = make_student(reply(value=1), part="double", request_timeout_s=5.0)
    student.call("double", 1)
    assert sent(student)[2] == 5.0


def test_harness_and_module_requests(make_student):
    state = {"w": torch.zeros(2, dtype=torch.float64)}
    student = make_student(reply(value=3), reply(state_meta={"w": {"shape": [2],
                                                                   "dtype": "float64"}},
                                                 steps=[{"output": torch.ones(2)}],
                                                 state_dict=state),
                           part="net")
    assert student.harness("fit", 1, lr=0.5).value == 3
    header, tensors, _, _ = sent(student)
    assert (header["op"], header["name"], values.decode_value(header["kwargs"], tensors)) == (
        "harness", "fit", {"lr": 0.5})
    x, g = torch.ones(2), torch.ones(2)
    result = student.module("Net", 4, init_kwargs={"hidden": 8}, state_dict=state,
                            dtype=torch.float32, init_seed=7, initial_state=True,
                            steps=[{"mode": "eval", "inputs": [x], "upstream": g},
                                   {"inputs": [x], "return_state": True}])
    header, tensors, _, _ = sent(student)
    assert (header["op"], header["name"], header["dtype"], header["init_seed"],
            header["initial_state"]) == ("module", "Net", "float32", 7, True)
    assert values.decode_value(header["init_args"], tensors) == [4]
    assert values.decode_value(header["init_kwargs"], tensors) == {"hidden": 8}
    first, second = header["steps"]
    assert (first["mode"], first["return_state"], second["mode"], second["upstream"],
            second["return_state"]) == ("eval", False, "train", None, True)
    assert torch.equal(values.decode_value(header["state_dict"], tensors)["w"], state["w"])
    assert result.state_meta == {"w": {"shape": [2], "dtype": "float64"}}
    assert torch.equal(result.steps[0]["output"], torch.ones(2))
    assert torch.equal(result.state_dict["w"], state["w"]) and result.initial_state is None
    # the facts of a returned tensor are found by the tensor itself
    assert result.meta(result.state_dict["w"])["dtype"] == "float64"


def test_an_attribute_is_a_call_returning_the_value(make_student):
    student = make_student(reply(value=[1, (2, 3)]))
    assert student.double(torch.ones(1)) == [1, (2, 3)]
    assert sent(student)[0]["name"] == "double"
    with pytest.raises(AttributeError):
        student._hidden_helper  # noqa: B018
    assert len(student._run.executor.sent) == 1


def test_a_generator_is_sent_as_a_seed_and_a_torch_generator_is_refused(make_student):
    student = make_student(reply(value=0))
    student.call("train", generator(5), 1)
    header, tensors, _, _ = sent(student)
    spec = values.decode_value(header["args"], tensors)[0]
    assert isinstance(spec, values.GeneratorSpec) and (spec.seed, spec.device) == (5, "same")
    with pytest.raises(TypeError, match=r"generator\(seed\), not a torch.Generator"):
        student.call("train", torch.Generator(), 1)


# -- device routing -----------------------------------------------------------------------------

@pytest.mark.parametrize(("device", "dtype", "expected"), [
    ("mps", torch.float64, "cpu"), ("mps", torch.float32, "mps"),
    ("cuda", torch.float64, "cuda"), ("cuda:1", torch.float32, "cuda:1"),
    ("cpu", torch.float64, "cpu")])
def test_float64_requests_of_an_mps_run_go_to_the_cpu(make_student, device, dtype, expected):
    student = make_student(reply(value=0), reply(state_meta={}, steps=[], state_dict={}),
                           device=device)
    result = student.call("double", torch.ones(2, dtype=dtype))
    assert sent(student)[0]["device"] == expected == result.device
    student.module("Net", dtype=dtype)
    assert sent(student)[0]["device"] == expected
    assert student.device_for(dtype) == expected


def test_a_float64_argument_anywhere_in_the_tree_counts(make_student):
    student = make_student(reply(value=0), device="mps")
    student.call("double", {"a": [1, torch.zeros(1, dtype=torch.float64)]},
                 dim=torch.zeros(1))
    assert sent(student)[0]["device"] == "cpu"


# -- failures the executor reports --------------------------------------------------------------

FRAMES = [{"file": "/sandbox/work0/mod.py", "line": 4, "name": "double",
           "code": "return 2 * x"}]

# error record -> (exception, status, stage, message, public message or None for the same)
FAILURES = {
    "not_implemented": ({"kind": "not_implemented", "type": "NotImplementedError"},
                        NotImplementedByStudent, "not_implemented", "call",
                        "`double` is not implemented yet", None),
    "missing": ({"kind": "missing", "type": "NameError",
                 "message": "`double` is not defined in the submission"},
                MissingName, "error", "load",
                "`double` is not defined in the submission; expected `double(x, dim=-1)`", None),
    "signature": ({"kind": "signature", "type": "TypeError",
                   "message": "`double(y)` cannot take this call"},
                  MissingName, "error", "load",
                  "`double(y)` cannot take this call; expected `double(x, dim=-1)`", None),
    "state_dict": ({"kind": "state_dict", "type": "RuntimeError",
                    "message": "Missing key(s): w"},
                   Mismatch, None, "state_dict",
                   "load_state_dict on `double` failed: Missing key(s): w", None),
    "handle": ({"kind": "handle", "type": "LookupError", "message": "no object for <handle>"},
               HandleError, "error", "handle",
               "`double` was given a handle the executor does not know: no object for <handle>",
               None),
    "reply": ({"kind": "reply", "type": "ValueError", "message": "cannot pickle"},
              MalformedReply, "error", "protocol",
              "`double` returned something that cannot be sent back: ValueError: cannot pickle",
              None),
    "exit": ({"kind": "exit", "type": "SystemExit", "message": "1", "frames": FRAMES},
             ExecutorCrash, "crashed", "call",
             "`double` called sys.exit (mod.py line 4: `return 2 * x`)", None),
    "exception": ({"kind": "exception", "type": "ValueError", "message": "secret input 0.123",
                   "frames": FRAMES},
                  StudentException, "error", "call",
                  "`double` raised ValueError: secret input 0.123 (mod.py line 4: `return 2 * x`)",
                  "`double` raised ValueError (mod.py line 4: `return 2 * x`)"),
    "backward": ({"kind": "exception", "type": "RuntimeError", "message": "bad grad",
                  "stage": "backward"},
                 StudentException, "error", "gradients",
                 "`double` raised RuntimeError in backward: bad grad",
                 "`double` raised RuntimeError in backward"),
    "windows path": ({"kind": "exception", "type": "KeyError", "message": "'k'",
                      "frames": [{"file": "C:\\Users\\ann\\hw\\mod.py", "line": 9,
                                  "name": "double", "code": "d['k']"}]},
                     StudentException, "error", "call",
                     "`double` raised KeyError: 'k' (mod.py line 9: `d['k']`)",
                     "`double` raised KeyError (mod.py line 9: `d['k']`)"),
    "device": ({"kind": "exception", "type": "RuntimeError",
                "message": "Expected all tensors to be on the same device, but found cuda:0"},
               StudentException, "error", "call",
               "`double` raised RuntimeError: Expected all tensors to be on the same device, "
               "but found cuda:0; hint: a tensor was created on another device; create new "
               "tensors with device=x.device",
               "`double` raised RuntimeError; hint: a tensor was created on another device; "
               "create new tensors with device=x.device"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_each_failure_record_becomes_its_student_failure(make_student, case):
    record, error, status, stage, message, public = FAILURES[case]
    student = make_student(reply(ok=False, error=record))
    with pytest.raises(error) as info:
        student.call("double", torch.ones(1))
    failure = info.value
    assert (getattr(failure, "status", None), failure.stage, failure.message) == (
        status, stage, message)
    if public is not None:
        assert failure.public_message == public
    elif status is not None:
        assert failure.public_message == message


def test_a_forbidden_use_wins_over_the_error_it_caused(make_student):
    used = [{"rule": "torch.mul", "call": "torch.mul", "line": 4}]
    student = make_student(reply(ok=False, error={"kind": "exception", "type": "ValueError"},
                                 forbidden_used=used))
    with pytest.raises(ForbiddenCall) as info:
        student.call("double", torch.ones(1))
    assert (info.value.status, info.value.stage, info.value.message) == (
        "forbidden", "forbidden", "double: line 4 calls torch.mul, forbidden in this part")


def test_a_forbidden_operator_is_named_before_a_python_name_and_the_rest_counted(make_student):
    used = [{"rule": "torch.mul", "call": "torch.mul", "line": 4},
            {"rule": "aten.mul", "call": "torch.Tensor.__mul__", "line": 5},
            {"rule": "torch.mul", "call": "torch.mul", "line": 6},
            {"rule": "torch.sum", "call": "torch.sum", "line": 7}]
    student = make_student(reply(value=0, forbidden_used=used))
    with pytest.raises(ForbiddenCall) as info:
        student.call("double", torch.ones(1))
    assert info.value.message == ("double: line 5 calls torch.Tensor.__mul__, which runs "
                                  "aten.mul, forbidden in this part (and 2 more forbidden calls)")


def test_a_forbidden_hit_outside_the_file_is_named_by_its_rule(make_student):
    student = make_student(reply(value=0, forbidden_used=[{"rule": "torch.sum", "call": None,
                                                           "line": None}]))
    with pytest.raises(ForbiddenCall) as info:
        student.call("double", torch.ones(1))
    assert info.value.message == ("double: code outside the submission's file calls torch.sum, "
                                  "forbidden in this part")


def test_a_name_that_did_not_compile_fails_before_any_request(make_student):
    broken = SOURCE.replace("def train(x, y):\n    return x", "def train(x, y:\n    return x")
    student = make_student(source=broken)
    with pytest.raises(MissingName, match="`train` could not be loaded: ") as info:
        student.call("train", 1, 2)
    assert info.value.stage == "load" and student._run.executor.sent == []


def test_a_name_whose_definition_raised_at_import_fails_before_any_request(make_student):
    errors = [{"kind": "exception", "type": "ImportError", "message": "no module named scipy",
               "frames": [], "lineno": 3, "defines": ["double"]}]
    student = make_student(load_errors=errors)
    with pytest.raises(MissingName) as info:
        student.call("double", 1)
    assert info.value.message == ("defining `double` raised ImportError: no module named scipy "
                                  "(line 3)")
    assert info.value.public_message == "defining `double` raised ImportError"
    assert student._run.executor.sent == []
    other = make_student(reply(value=1), load_errors=errors, part="train")
    assert other.call("train", 1, 2).value == 1


def test_a_function_that_timed_out_before_is_not_run_again(make_student):
    student = make_student()
    student._run.executor.timed_out["double"] = 2.0
    with pytest.raises(RequestTimeout):
        student.call("double", 1)
    assert student._run.executor.sent == []


@pytest.mark.parametrize(("body", "words"), [
    ({"value": {"$t": "t9"}}, "tensor key 't9' is not in the frame"),
    ({"value": 1, "grads": [1, 2]}, "gradients were not a mapping"),
])
def test_a_reply_that_does_not_hold_together_is_malformed(make_student, body, words):
    student = make_student(({"ok": True, "forbidden_used": [], "meta": {}, **body}, {}))
    with pytest.raises(MalformedReply, match=words) as info:
        student.call("double", 1)
    assert info.value.stage == "protocol"


def test_tensor_facts_are_found_by_the_returned_tensor():
    from grader.judge.proxy import _call_result

    header, out = reply(value=(torch.ones(2).requires_grad_(), torch.zeros(1)))
    result = _call_result(header, out)
    first, second = result.value
    assert result.meta(first)["requires_grad"] is True and result.meta(second)["requires_grad"] \
        is False
    assert result.meta(torch.ones(2)) is None


# -- handles ------------------------------------------------------------------------------------

def _handle() -> Handle:
    return Handle(secrets.token_hex(16))


def test_a_kept_value_comes_back_as_a_handle_the_run_remembers(make_student):
    made = _handle()
    student = make_student(reply(value=made), reply(value=torch.ones(1)), part="train")
    handle = student.call("train", 1, 2, keep=True).value
    assert handle == made and sent(student)[0]["keep"] is True
    assert student._run.handles == {made.token: (0, "train")}
    student.method(handle, "forward", torch.zeros(1))
    header, tensors, _, label = sent(student)
    assert (header["op"], header["name"], label) == ("method", "forward", "forward")
    assert values.decode_value(header["handle"], tensors) == made


def test_a_handle_passed_as_an_argument_is_vetted_too(make_student):
    student = make_student(reply(value=_handle()), reply(value=0), part="train")
    kept = student.call("train", 1, 2, keep=True).value
    student.call("train", {"model": kept}, 2)
    assert values.decode_value(sent(student)[0]["args"], {}) == [{"model": kept}, 2]
    with pytest.raises(HandleError, match="was not made by this submission's executor"):
        student.call("train", [_handle()], 2)
    assert len(student._run.executor.sent) == 2


def test_a_handle_from_before_a_restart_is_refused_without_a_request(make_student):
    student = make_student(reply(value=_handle()), part="train")
    kept = student.call("train", 1, 2, keep=True).value
    student._run.executor.restarts += 1
    with pytest.raises(HandleError, match="the object `train` returned is gone") as info:
        student.method(kept, "forward", 1)
    assert info.value.stage == "handle" and len(student._run.executor.sent) == 1


def test_a_keep_reply_without_a_handle_or_with_tensors_beside_it_is_malformed(make_student):
    """The kept object stays in the executor: a reply that sends tensors with its handle
    sends something of it back."""
    for bad in (reply(value=1), reply(value=torch.ones(1)),
                reply(value=_handle(), inputs_after=torch.ones(1))):
        student = make_student(bad, part="train")
        with pytest.raises(MalformedReply, match="the reply held no handle"):
            student.call("train", 1, 2, keep=True)
        assert student._run.handles == {}


def test_a_method_needs_a_handle(make_student):
    with pytest.raises(TypeError, match="student.method needs a Handle"):
        make_student().method("model", "forward")


# -- awards -------------------------------------------------------------------------------------

def test_an_award_is_recorded_for_this_test(make_student):
    student = make_student(test_id="t::accuracy")
    student.award(0.5, "reached 0.91", accuracy=0.91)
    assert student._run.awards == {"t::accuracy": Award(0.5, "reached 0.91",
                                                        {"accuracy": 0.91})}
    with pytest.raises(ValueError, match="between 0 and 1"):
        student.award(1.5, "too much")
