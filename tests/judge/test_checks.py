"""grader.judge.checks against a student module run in process through the real request path
(proxy encoding, the wire, the executor's ops), without a sandbox: what check_function asks
for and what it compares."""

from __future__ import annotations

import types

import pytest
import torch

from grader.executor.child import _answer
from grader.executor.ops import RequestContext
from grader.judge.checks import check_function
from grader.judge.compare import Mismatch
from grader.judge.proxy import Student
from grader.wire import frames


class InProcessStudent(Student):
    """A Student whose requests are answered by the executor's ops in this process."""

    def __init__(self, source: str) -> None:  # no SubmissionRun, no sandbox
        self.module = types.ModuleType("submission")
        exec(compile(source, "submission.py", "exec"), self.module.__dict__)
        self.part, self.seed, self.hidden, self.device = "p", 0, False, "cpu"
        self.headers: list[dict] = []

    def _send(self, op, name, body, tensors, device=None):
        header = {"op": op, "name": name, "seed": self.seed, "device": "cpu", "forbidden": [],
                  **body}
        self.headers.append(header)
        header, tensors = frames.unpack_frame(frames.pack_frame(header, tensors)[8:],
                                                accept=("request",))
        ctx = RequestContext(module=self.module, harness=None, header=header, tensors=tensors,
                             device="cpu", filenames={"submission.py"})
        reply, out = frames.unpack_frame(frames.pack_frame(*_answer(ctx))[8:])
        if not reply["ok"]:
            raise self._failure(name, reply["error"])
        return reply, out


# A running-average update written with .detach() instead of torch.no_grad(): correct as long
# as the buffer is not made a leaf that requires grad.
RUNNING = '''
import torch

def scale_and_track(x, running, momentum=0.1):
    new_running = (1 - momentum) * running + momentum * x.mean().detach()
    return 2 * x, new_running, torch.tensor(float(running.requires_grad), dtype=x.dtype)
'''


def reference(x, running, momentum=0.1):
    return (2 * x, ((1 - momentum) * running + momentum * x.mean()).detach(),
            torch.tensor(0.0, dtype=x.dtype))


def test_only_the_named_inputs_require_grad_in_the_executor():
    student = InProcessStudent(RUNNING)
    x, running = torch.randn(5, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    result = check_function(student, "scale_and_track", reference, x, running, grad=True,
                            grad_wrt=("x",))
    assert student.headers[-1]["grad_wrt"] == ["args[0]"]
    assert set(result.grads) == {"args[0]"}
    _, new_running, flag = result.value
    assert not result.meta(new_running)["has_history"] and float(flag) == 0.0


def test_without_grad_wrt_every_floating_input_is_a_leaf():
    student = InProcessStudent(RUNNING)
    x, running = torch.randn(5, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    result = student.call("scale_and_track", x, running, grad=True,
                          upstream=[torch.ones(5, dtype=torch.float64)])
    assert set(result.grads) == {"args[0]", "args[1]"}
    assert result.meta(result.value[1])["has_history"] and float(result.value[2]) == 1.0


def test_grad_wrt_by_keyword_and_a_wrong_gradient_still_fails():
    wrong = RUNNING.replace("return 2 * x,", "return 1.5 * x.detach() + 0.5 * x,")  # grad 0.5
    x, running = torch.randn(5, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    with pytest.raises(Mismatch) as info:
        check_function(InProcessStudent(wrong), "scale_and_track", reference, x=x,
                       running=running, grad=True, grad_wrt=("x",))
    assert info.value.stage == "gradients" and "grad of x" in info.value.message


def test_grad_wrt_naming_no_argument_is_an_error_of_the_test():
    x, running = torch.randn(5, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    with pytest.raises(ValueError, match="grad_wrt names 'gamma'"):
        check_function(InProcessStudent(RUNNING), "scale_and_track", reference, x, running,
                       grad=True, grad_wrt=("gamma",))
    with pytest.raises(ValueError, match="grad_wrt names 5"):
        InProcessStudent(RUNNING).call("scale_and_track", x, running, grad=True, grad_wrt=(5,))
