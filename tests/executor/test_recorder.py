"""grader.executor.recorder, in process: what the recorder sees inside its window.

The "student's file" is this file: each hit names the line of this file that reached it.
"""

from __future__ import annotations

import importlib
import inspect
import threading

import pytest
import torch
import torch.nn.functional as F

from grader.executor.recorder import Recording, operators_reached

HERE = __file__
SOFTMAX = ["torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax",
           "aten.*softmax*"]
DERIVATIVE = ["torch.autograd.*", "torch.Tensor.backward", "torch.func.*", "aten.*_backward*",
              "autograd.*"]


def record(patterns, fn):
    """(hits, value) of ``fn()`` run inside a window for ``patterns``."""
    rec = Recording(patterns, HERE)
    with rec.active():
        value = fn()
    return rec.used, value


def line_of(marker: str) -> int:
    """The line of this file that holds ``marker`` (once, besides this call)."""
    lines = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    found = [i + 1 for i, line in enumerate(lines) if marker in line and "line_of(" not in line]
    assert len(found) == 1, marker
    return found[0]


def x64(*shape):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def test_a_sibling_api_is_seen_as_the_kernel_it_runs():
    a = x64(3, 4)
    hits, _ = record(SOFTMAX, lambda: F.softmin(-a, -1))  # softmin-line
    assert hits == [{"rule": "aten._softmax", "call": "torch.nn.functional.softmin",
                     "line": line_of("# softmin-line")}]


@pytest.mark.parametrize("call, name", [
    (lambda a: torch._softmax(a, -1, False), "torch._softmax"),
    (lambda a: torch.ops.aten._softmax(a, -1, False), "torch.ops.aten._softmax"),
    (lambda a: torch.ops.aten._softmax.default(a, -1, False), "torch.ops.aten._softmax.default"),
    (lambda a: torch.special.softmax(a, -1), "torch.special.softmax"),
    (lambda a: torch.nn.Softmax(-1)(a), "torch.nn.functional.softmax"),
])
def test_internal_and_op_routes_name_the_operator_and_the_call(call, name):
    hits, _ = record(SOFTMAX, lambda: call(x64(3, 4)))
    aten = [h for h in hits if h["rule"] == "aten._softmax"]
    assert aten and aten[0]["call"] == name


def test_a_legitimate_formula_records_nothing_and_values_are_untouched():
    a = x64(3, 4)
    hits, value = record(SOFTMAX, lambda: (a - a.logsumexp(-1, keepdim=True)).exp())
    assert hits == []
    assert torch.allclose(value, torch.softmax(a, -1))


def test_a_backward_kernel_called_directly():
    x = x64(5)
    hits, _ = record(DERIVATIVE,
                     lambda: torch.ops.aten.threshold_backward(torch.ones_like(x), x, 0.0))
    assert hits[0]["rule"] == "aten.threshold_backward"


def test_the_engine_running_inside_the_call_is_recorded():
    def through_grad():
        leaf = x64(4).requires_grad_(True)
        return torch.autograd.grad(torch.tanh(leaf).sum(), leaf)  # grad-line

    hits, _ = record(["autograd.backward"], through_grad)
    assert hits == [{"rule": "autograd.backward", "call": "torch.autograd.grad",
                     "line": line_of("# grad-line")}]


def test_the_engine_reached_without_any_torch_function():
    def run_backward():
        leaf = x64(4).requires_grad_(True)
        out = torch.relu(leaf).sum()
        engine = importlib.import_module("torch.autograd").Variable._execution_engine
        return engine.run_backward((out,), (torch.ones_like(out),), False, False, (leaf,),
                                   False, False)  # engine-line

    hits, _ = record(["autograd.backward"], run_backward)
    assert [h["rule"] for h in hits] == ["autograd.backward"]
    assert hits[0]["line"] in (line_of("# engine-line") - 1, line_of("# engine-line"))


def test_the_judges_backward_after_the_window_is_not_recorded():
    leaf = x64(4).requires_grad_(True)
    rec = Recording(DERIVATIVE, HERE)
    with rec.active():
        out = torch.sigmoid(leaf) * 3
    torch.autograd.grad(out.sum(), leaf)  # the sigmoid_backward kernel runs here
    assert rec.used == []


def test_forward_mode_ad_is_recorded():
    import torch.autograd.forward_ad as fwad

    def tangent():
        with fwad.dual_level():
            dual = fwad.make_dual(x64(3), torch.ones(3, dtype=torch.float64))
            return fwad.unpack_dual(dual * 2).tangent

    hits, value = record(["autograd.forward_ad"], tangent)
    assert [h["rule"] for h in hits] == ["autograd.forward_ad"]
    assert torch.equal(value, torch.full((3,), 2.0, dtype=torch.float64))


def test_a_torch_func_transform_is_recorded_only_where_listed():
    rows = x64(3, 4)
    fn = torch.func.vmap(lambda r: r.exp() / r.exp().sum())
    hits, _ = record(["autograd.functorch"], lambda: fn(rows))
    assert [(h["rule"], h["call"]) for h in hits] == [("autograd.functorch", "torch.func.vmap")]
    assert record(SOFTMAX, lambda: fn(rows))[0] == []


def test_a_pure_python_api_reached_through_importlib():
    def shapes():
        return importlib.import_module("torch").broadcast_shapes((2, 1), (3,))  # shapes-line

    hits, value = record(["torch.broadcast_shapes"], shapes)
    assert hits == [{"rule": "torch.broadcast_shapes", "call": "torch.broadcast_shapes",
                     "line": line_of("# shapes-line")}]
    assert value == (2, 3)


def test_a_module_wildcard_sees_its_pure_python_functions():
    optim_sgd = importlib.import_module("torch.optim.sgd")
    hits, _ = record(["torch.optim.*"], lambda: optim_sgd.sgd(
        [torch.zeros(2)], [torch.ones(2)], [None], weight_decay=0.0, momentum=0.0, lr=0.1,
        dampening=0.0, nesterov=False, maximize=False))
    assert [h["rule"] for h in hits] == ["torch.optim.sgd.sgd"]


def test_a_forbidden_class_and_its_subclasses_are_seen_when_built():
    class Mine(torch.nn.Linear):
        pass

    assert [h["rule"] for h in record(["torch.nn.Linear"], lambda: Mine(2, 3))[0]] == \
        ["torch.nn.Linear"]
    assert torch.nn.Linear.__init__ is not None and record(["torch.nn.Linear"],
                                                           lambda: torch.nn.ReLU())[0] == []


def test_a_class_of_the_students_own_with_forward_and_backward_is_never_flagged():
    class Layer:
        def forward(self, a):
            return torch.sigmoid(a)

        def backward(self, out, grad):
            return grad * out * (1 - out)

    def use():
        layer = Layer()
        out = layer.forward(x64(4))
        return layer.backward(out, torch.ones_like(out))

    assert record(DERIVATIVE, use)[0] == []


@pytest.mark.parametrize("switch", ["torch._C._DisableTorchDispatch",
                                    "torch._C.DisableTorchFunction"])
def test_switching_the_recorder_off_is_itself_recorded(switch):
    a = x64(3, 4)

    def hide():
        with eval(switch)():
            return torch._softmax(a.reshape(3, 2, 2), -1, False)

    hits, _ = record(SOFTMAX, hide)
    assert any(h["rule"] == "recorder.off" and h["call"] == switch for h in hits)


def test_popping_the_dispatch_mode_is_recorded():
    from torch.utils._python_dispatch import _pop_mode, _push_mode

    def pop_and_restore():
        mode = _pop_mode()
        try:
            return torch._softmax(x64(2, 2), -1, False)
        finally:
            _push_mode(mode)

    def pop_and_leave():
        _pop_mode()
        torch._softmax(x64(2, 2), -1, False)

    # put back before the window closed: the function mode, which checks that its partner is
    # still on the dispatch stack, saw a torch call meanwhile
    assert [h["rule"] for h in record(SOFTMAX, pop_and_restore)[0]] == ["recorder.off"]
    rec = Recording(SOFTMAX, HERE)
    with pytest.raises(Exception):  # noqa: B017 - torch's own error at the mode's exit
        with rec.active():
            pop_and_leave()
    assert any(h["rule"] == "recorder.off" for h in rec.used)


def test_from_an_engine_thread_the_line_is_the_windows_thread():
    # On CUDA the engine runs backward kernels on its device threads, which inherit the modes:
    # a hit from such a thread names the line where the window's thread waits.
    rec = Recording(DERIVATIVE, HERE)
    with rec.active():
        worker = threading.Thread(target=rec.hit, args=("autograd.backward", None))
        worker.start(); worker.join()  # thread-line  # noqa: E702
    assert [(h["rule"], h["line"]) for h in rec.used] == [("autograd.backward",
                                                            line_of("# thread-line"))]


def test_a_part_without_a_list_enters_no_mode():
    rec = Recording([], HERE)
    with rec.active():
        depth = torch._C._len_torch_function_stack()
        hits = F.softmin(x64(2, 2), -1)
    assert depth == 0 and rec.used == [] and hits is not None


def test_each_rule_is_recorded_once_per_request():
    a = x64(3, 4)
    rec = Recording(SOFTMAX, HERE)
    for _ in range(3):
        with rec.active():
            torch._softmax(a, -1, False)
            F.softmin(a, -1)
    assert [h["rule"] for h in rec.used] == ["aten._softmax"]


def test_operators_reached_lists_what_an_api_runs():
    assert operators_reached(F.softmin, torch.randn(3, 4), -1) == ["aten.neg", "aten._softmax"]
    assert "aten.convolution" in operators_reached(F.conv3d, torch.randn(1, 1, 1, 4, 4),
                                                   torch.randn(1, 1, 1, 3, 3))


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU (torch.cuda.is_available() is False)")


@needs_cuda
@pytest.mark.cuda
def test_the_engine_on_cudas_device_threads_is_recorded_with_the_students_line():
    def through_grad():
        leaf = torch.randn(4, device="cuda", requires_grad=True)
        return torch.autograd.grad(torch.tanh(leaf).sum(), leaf)  # cuda-grad-line

    hits, _ = record(["autograd.backward", "aten.*_backward*"], through_grad)
    assert {h["rule"] for h in hits} >= {"autograd.backward", "aten.tanh_backward"}
    assert {h["line"] for h in hits} == {line_of("# cuda-grad-line")}


@needs_cuda
@pytest.mark.cuda
def test_kernels_that_differ_by_device_are_both_in_the_course_lists():
    x = torch.randn(4, 4, device="cuda")
    assert "aten.native_dropout" in operators_reached(F.dropout, x, 0.5)
    assert "aten.bernoulli_" in operators_reached(F.dropout, x.cpu(), 0.5)


def test_a_list_is_resolved_once_whatever_its_order():
    first = Recording(["torch.softmax", "aten.*softmax*"], HERE)
    again = Recording(["aten.*softmax*", "torch.softmax", "aten.*softmax*"], HERE)
    assert first.plan is again.plan
    with first.active():
        torch._softmax(x64(2, 2), -1, False)
    decided = dict(first.plan.ops)
    with again.active():
        torch._softmax(x64(2, 2), -1, False)
    assert first.plan.ops == decided and "aten._softmax" in decided.values()
    assert [h["rule"] for h in again.used] == ["aten._softmax"]  # each request records anew


def test_a_window_inside_a_window_records_for_both():
    outer = Recording(SOFTMAX, HERE)
    with outer.active():
        inner = operators_reached(F.softmin, x64(2, 3), -1)
    assert inner == ["aten.neg", "aten._softmax"]
    assert [h["rule"] for h in outer.used] == ["aten._softmax"]
    assert torch._C._len_torch_function_stack() == 0
    assert torch._C._len_torch_dispatch_stack() == 0


def test_a_mode_left_on_the_stack_is_recorded_and_the_next_windows_still_record():
    class Extra(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    rec = Recording(SOFTMAX, HERE)
    try:
        with rec.active():
            Extra().__enter__()  # and never left
        assert [h["rule"] for h in rec.used] == ["recorder.off"]
        assert torch.equal(torch.ones(2) + 1, torch.full((2,), 2.0))  # torch still works
        hits, _ = record(SOFTMAX, lambda: F.softmin(x64(2, 2), -1))
        assert [h["rule"] for h in hits] == ["aten._softmax"]
    finally:
        while torch._C._len_torch_function_stack():
            torch._C._pop_torch_function_stack()


@pytest.mark.parametrize("inline", [True, False])
def test_a_compiled_function_runs_its_operators_where_the_recorder_sees_them(inline):
    # torch.compile must not turn a forbidden kernel into code the recorder does not see,
    # whichever way dynamo looks for modes (the stack, or with ``inline`` off the flags the
    # recorder's mode sets as torch's own modes do); the flags are put back after the window.
    dynamo = pytest.importorskip("torch._dynamo")
    if not hasattr(dynamo.config, "inline_torch_dispatch_torch_compile"):
        pytest.skip("this torch has no inline_torch_dispatch_torch_compile setting")
    a = x64(3, 4)
    with dynamo.config.patch(inline_torch_dispatch_torch_compile=inline):
        compiled = torch.compile(lambda t: F.softmin(-t, -1), backend="eager")
        hits, value = record(SOFTMAX, lambda: compiled(a))
    assert [h["rule"] for h in hits] == ["aten._softmax"]
    assert torch.allclose(value, torch.softmax(a, -1))
    from torch.utils._python_dispatch import is_in_any_mode_without_ignore_compile_internals
    assert not is_in_any_mode_without_ignore_compile_internals()  # put back as it was


# The template's own order, in a fresh interpreter: preload (which imports the recorder before
# any torch mode runs, and warms it up), then what an executor does.
_AS_THE_TEMPLATE = """
import json, sys, torch
from grader.executor.preload import preload
from grader.wire.rules import warm_argument
SOFTMAX = ["torch.nn.functional.softmax", "aten.*softmax*"]
preload(warm_argument([SOFTMAX]))
from grader.executor import recorder, plans
homework_list = plans._PLANS.get(tuple(sorted(SOFTMAX)))
leaf = torch.zeros((), requires_grad=True)
ids = []
out = leaf.clone()
out.register_hook(lambda g: ids.append(torch._C._current_graph_task_id()))
torch.autograd.grad(out, leaf)
plan = plans.plan
decided = len(plan(recorder.DERIVATIVE_LIST).ops) if plan else -1
def hide(x):
    def rule(mode, func, types, args, kwargs):
        return func(*args, **kwargs)
    mode = torch.utils._python_dispatch._get_current_dispatch_mode()
    torch.library.register_torch_dispatch("aten::_softmax", type(mode), rule)
    return torch.nn.functional.softmin(-x, -1)
rec = recorder.Recording(["aten.*softmax*"], "<string>")
with rec.active():
    hide(torch.randn(2, 3))
print(json.dumps({"graph_task": ids[0], "decided": decided,
                  "hits": [h["rule"] for h in rec.used],
                  "homework_list": [len(homework_list.ops), len(homework_list.calls)]
                  if homework_list else None}))
"""


@pytest.fixture(scope="module")
def as_the_template():
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _AS_THE_TEMPLATE], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_template_warm_up_is_forward_only_and_decides_the_common_operators(as_the_template):
    # A backward pass before the fork starts autograd's device threads on a machine with a
    # GPU, and every forked executor then fails its first backward: the probe's graph task
    # must be the process's first.
    assert as_the_template["graph_task"] == 0
    assert as_the_template["decided"] >= 40  # the derivative list's decisions, inherited


def test_the_template_warms_up_the_homeworks_own_lists_too(as_the_template):
    # The lists come from the manifest (grader.wire.rules.warm_argument): an executor forked
    # after the warm-up finds each list's plan made and its common decisions taken.
    ops, calls = as_the_template["homework_list"]
    assert ops >= 40 and calls >= 40


def test_a_dispatch_rule_registered_for_the_recorders_mode_hides_nothing(as_the_template):
    assert as_the_template["hits"] == ["aten._softmax"]


def test_a_list_the_modes_cannot_see_enters_none_and_its_hook_still_records():
    import torch.hub

    def load():
        depth = (torch._C._len_torch_function_stack(), torch._C._len_torch_dispatch_stack())
        try:
            torch.hub.load_state_dict_from_url("file:///nonexistent/weights.pt")  # hub-line
        except Exception:  # noqa: BLE001 - no network, no file: the call is what counts
            pass
        return depth

    hits, depth = record(["torch.hub.*", "torch.load", "urllib.*"], load)
    assert depth == (0, 0)  # a training run under such a list pays no mode per operator
    assert [(h["rule"], h["line"]) for h in hits] == [
        ("torch.hub.load_state_dict_from_url", line_of("# hub-line"))]


def test_a_list_naming_a_torch_builtin_keeps_both_modes_watching_each_other():
    def hidden_one_hot():
        with torch._C.DisableTorchFunction():
            return F.one_hot(torch.tensor([1, 0]), 2)

    hits, _ = record(["torch.nn.functional.one_hot"], hidden_one_hot)
    assert [h["rule"] for h in hits] == ["recorder.off"]
    hits, _ = record(["torch.nn.functional.one_hot"], lambda: F.one_hot(torch.tensor([1]), 2))
    assert [h["rule"] for h in hits] == ["torch.nn.functional.one_hot"]


def test_decisions_about_fresh_callables_are_kept_once_and_bound_methods_never():
    from grader.executor.pynames import cache_owner

    x = x64(2, 3)
    assert cache_owner(torch.Tensor.shape.__get__) is torch.Tensor.shape  # made at each access
    assert cache_owner(x.add) is None  # bound to one tensor: never kept
    assert cache_owner(torch.sigmoid) is torch.sigmoid
    rec = Recording(SOFTMAX, HERE)
    with rec.active():
        x.shape, x.T
    kept = len(rec.plan.calls)
    for _ in range(50):
        with rec.active():
            x.shape, x.T
    assert len(rec.plan.calls) == kept
