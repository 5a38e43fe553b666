"""grader.executor.ops, in this process: each op is a plain function of a RequestContext, so
a module made here stands in for the imported submission (no fork, no sandbox). What an op
looks up, binds, runs, differentiates and sends back, and the error record of each refusal."""

from __future__ import annotations

import types
from typing import Any

import pytest
import torch

from grader.executor.ops import KEPT, OPS, RequestContext
from grader.wire import values

SOURCE = '''
import torch

CALLS = []

def double(x, dim=-1):
    CALLS.append("double")
    return 2 * x

def weighted(x, w, *, scale=1.0, steps=0):
    return (x * w).sum() * scale + steps

def detached(x):
    return x.detach() * 3

def count(x):
    return int(x.numel())

def bump(x, state):
    x.add_(1)
    state["n"] = state["n"] + 1
    return x

def uses_one(x, y):
    return 2 * x

class Boom(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        raise ValueError("backward went wrong")

def bad_backward(x):
    return Boom.apply(x)

def draw(n, gen):
    return torch.rand(n, generator=gen)

class Scaler:
    def __init__(self, k):
        self.k = k

    def forward(self, x):
        return self.k * x

    def _secret(self):
        return "no"

    def __call__(self, x):
        return self.forward(x)

def make_scaler(k):
    return Scaler(k)

class Affine(torch.nn.Module):
    def __init__(self, n, bias=True):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(n))
        self.bias = torch.nn.Parameter(torch.zeros(n)) if bias else None
        self.register_buffer("seen", torch.zeros(()))

    def forward(self, x):
        if self.training:
            self.seen += 1
        out = x * self.weight
        return out + self.bias if self.bias is not None else out

class NotAModule:
    pass

LIMIT = 3
'''

HARNESS = '''
def fit(module, x, times=1):
    return module.double(x) * times
'''


@pytest.fixture
def module(tmp_path) -> types.ModuleType:
    """The submission, from a file as the child runs it (tracebacks quote its lines)."""
    path = tmp_path / "submission.py"
    path.write_text(SOURCE, encoding="utf-8")
    mod = types.ModuleType("submission")
    mod.__file__ = str(path)
    exec(compile(SOURCE, str(path), "exec"), mod.__dict__)
    return mod


@pytest.fixture
def harness() -> types.ModuleType:
    mod = types.ModuleType("harness")
    exec(compile(HARNESS, "harness.py", "exec"), mod.__dict__)
    return mod


def request(module: types.ModuleType, op: str, name: str, *, harness: Any = None,
            forbidden: tuple[str, ...] = (), **body: Any) -> RequestContext:
    """A context as the child builds it: the body's value trees encoded as on the wire."""
    tensors: dict[str, torch.Tensor] = {}
    header: dict[str, Any] = {"op": op, "name": name, "seed": 0, "device": "cpu",
                              "forbidden": list(forbidden)}
    for key, value in body.items():
        if key in ("args", "kwargs", "upstream", "handle", "init_args", "init_kwargs",
                   "state_dict"):
            value = values.encode_value(value, tensors, {})
        elif key == "steps":
            value = [{**s, "inputs": values.encode_value(s.get("inputs", []), tensors, {}),
                      "upstream": values.encode_value(s["upstream"], tensors, {})
                      if s.get("upstream") is not None else None} for s in value]
        header[key] = value
    return RequestContext(module=module, harness=harness, header=header, tensors=tensors,
                          device="cpu", filenames={module.__file__})


def answer(ctx: RequestContext) -> dict[str, Any]:
    return OPS[ctx.header["op"]](ctx)


def refusal(ctx: RequestContext) -> dict[str, Any]:
    """The error record of an op that refuses the request."""
    with pytest.raises(ctx.StudentError) as info:
        answer(ctx)
    return info.value.record


# -- call -------------------------------------------------------------------------------------

def test_a_call_runs_the_function_with_decoded_arguments(module):
    x = torch.arange(3.0)
    body = answer(request(module, "call", "double", args=[x], kwargs={"dim": 0}))
    assert set(body) == {"value"} and torch.equal(body["value"], 2 * x)
    assert module.CALLS == ["double"]


@pytest.mark.parametrize(("name", "kind", "words"), [
    ("triple", "call", "`triple` is not defined in the submission"),
    ("LIMIT", "call", "`LIMIT` is a int, expected a function"),
    ("Affine", "call", "`Affine` is a type, expected a function"),
    ("double", "module", "`double` is a function, expected a class"),
])
def test_a_name_that_is_missing_or_of_the_wrong_kind_is_refused(module, name, kind, words):
    record = refusal(request(module, kind, name, args=[], kwargs={}))
    assert (record["kind"], record["message"], record["frames"]) == ("missing", words, [])


def test_a_class_that_is_no_module_is_refused(module):
    record = refusal(request(module, "module", "NotAModule"))
    assert (record["kind"], record["type"]) == ("missing", "TypeError")
    assert record["message"] == "`NotAModule` is not a subclass of torch.nn.Module"


@pytest.mark.parametrize(("args", "kwargs"), [([], {}), ([1, 2, 3], {}), ([1], {"size": 2})])
def test_a_call_the_signature_cannot_take_is_refused_before_the_function_runs(module, args,
                                                                              kwargs):
    record = refusal(request(module, "call", "double", args=args, kwargs=kwargs))
    assert (record["kind"], record["type"]) == ("signature", "TypeError")
    assert record["message"].startswith("`double(x, dim=-1)` cannot take this call: ")
    assert module.CALLS == []


def test_a_module_constructor_is_bound_too(module):
    record = refusal(request(module, "module", "Affine", init_args=[], init_kwargs={"m": 2}))
    assert record["kind"] == "signature" and record["message"].startswith(
        "`Affine(n, bias=True)` cannot take this call")


def test_what_the_students_code_raises_goes_up_to_the_child_as_it_is(module):
    """The op does not catch it: grader.executor.child records it (tests/judge/test_checks.py
    goes through that path)."""
    with pytest.raises(AttributeError, match="numel"):
        answer(request(module, "call", "count", args=[None], kwargs={}))


# -- gradients --------------------------------------------------------------------------------

def test_every_floating_input_becomes_a_leaf_and_gets_its_gradient(module):
    x, w = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    body = answer(request(module, "call", "weighted", args=[x, w],
                          kwargs={"scale": 2.0, "steps": torch.tensor(1)}, grad=True,
                          upstream=torch.tensor(1.0)))
    assert set(body["grads"]) == {"args[0]", "args[1]"}  # the integer tensor is no leaf
    assert torch.equal(body["grads"]["args[0]"], 2 * w)
    assert torch.equal(body["grads"]["args[1]"], 2 * x)
    assert body["grad_note"] is None and not body["grads"]["args[0]"].requires_grad


def test_only_the_inputs_grad_wrt_names_are_leaves(module):
    x, w = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    body = answer(request(module, "call", "weighted", args=[x], kwargs={"w": w}, grad=True,
                          upstream=torch.tensor(1.0), grad_wrt=["kwargs.w"]))
    assert set(body["grads"]) == {"kwargs.w"} and torch.equal(body["grads"]["kwargs.w"], x)


def test_the_upstream_gradient_weights_the_outputs(module):
    x, g = torch.tensor([1.0, -2.0]), torch.tensor([10.0, 100.0])
    body = answer(request(module, "call", "double", args=[x], kwargs={}, grad=True, upstream=g))
    assert torch.equal(body["grads"]["args[0]"], 2 * g)


def test_an_unused_input_has_no_gradient(module):
    body = answer(request(module, "call", "uses_one", args=[torch.ones(2), torch.ones(2)],
                          kwargs={}, grad=True, upstream=torch.ones(2)))
    assert body["grads"]["args[1]"] is None and body["grads"]["args[0]"] is not None


@pytest.mark.parametrize(("name", "upstream", "note"), [
    ("detached", torch.ones(2), "no_history"),  # the output does not depend on the leaves
    ("double", torch.ones(3), "no_history"),  # no output of the upstream's shape
    ("count", torch.ones(()), "no_output"),  # no tensor came back
])
def test_when_there_is_nothing_to_differentiate_the_note_says_why(module, name, upstream,
                                                                  note):
    body = answer(request(module, "call", name, args=[torch.ones(2)], kwargs={}, grad=True,
                          upstream=upstream))
    assert body["grad_note"] == note and body["grads"] == {"args[0]": None}


def test_an_error_in_backward_is_recorded_with_its_stage_and_the_students_line(module):
    record = refusal(request(module, "call", "bad_backward", args=[torch.ones(2)], kwargs={},
                             grad=True, upstream=torch.ones(2)))
    assert (record["stage"], record["type"], record["message"]) == (
        "backward", "ValueError", "backward went wrong")
    assert record["frames"][-1]["code"] == 'raise ValueError("backward went wrong")'


def test_the_inputs_after_the_call_show_what_it_changed_in_place(module):
    x = torch.zeros(2)
    body = answer(request(module, "call", "bump", args=[x, {"n": 1}], kwargs={},
                          return_inputs=True))
    after = body["inputs_after"]
    assert torch.equal(after["args"][0], torch.ones(2)) and after["args"][1] == {"n": 2}
    assert after["kwargs"] == {}
    assert "inputs_after" not in answer(request(module, "call", "bump",
                                                args=[x, {"n": 1}], kwargs={}))


def test_a_generator_argument_is_made_and_seeded_here(module):
    body = answer(request(module, "call", "draw", args=[3, values.GeneratorSpec(5, "same")],
                          kwargs={}))
    assert torch.equal(body["value"], torch.rand(3, generator=torch.Generator().manual_seed(5)))


def test_the_call_runs_inside_the_forbidden_recorder(module):
    ctx = request(module, "call", "double", args=[torch.ones(2)], kwargs={},
                  forbidden=("aten.mul",))
    answer(ctx)
    assert ctx.recorder is not None and [h["rule"] for h in ctx.recorder.used] == ["aten.mul"]
    assert ctx.recording() is ctx.recorder  # one recording per request


# -- keep, handles and methods ----------------------------------------------------------------

def test_a_kept_value_stays_here_and_its_handle_goes_back(module):
    body = answer(request(module, "call", "make_scaler", args=[3], kwargs={}, keep=True))
    assert set(body) == {"value"} and isinstance(body["value"], values.Handle)
    assert KEPT.get(body["value"]).k == 3


def test_a_method_of_a_kept_object_and_the_object_as_an_argument(module):
    handle = answer(request(module, "call", "make_scaler", args=[2], kwargs={},
                            keep=True))["value"]
    body = answer(request(module, "method", "forward", handle=handle,
                          args=[torch.ones(2)], kwargs={}, grad=True, upstream=torch.ones(2)))
    assert torch.equal(body["value"], 2 * torch.ones(2))
    assert torch.equal(body["grads"]["args[0]"], 2 * torch.ones(2))
    assert torch.equal(answer(request(module, "method", "__call__", handle=handle,
                                      args=[torch.ones(1)], kwargs={}))["value"],
                       torch.full((1,), 2.0))


@pytest.mark.parametrize(("name", "kind", "words"), [
    ("_secret", "protocol", "'_secret' is not a public method name"),
    ("__class__", "protocol", "'__class__' is not a public method name"),
    ("forward.__globals__", "protocol", "is not a public method name"),
    ("backward", "missing", "the Scaler has no method `backward`"),
    ("k", "missing", "the Scaler has no method `k`"),
])
def test_a_method_name_that_is_private_or_missing_is_refused(module, name, kind, words):
    handle = answer(request(module, "call", "make_scaler", args=[2], kwargs={},
                            keep=True))["value"]
    record = refusal(request(module, "method", name, handle=handle, args=[], kwargs={}))
    assert record["kind"] == kind and words in record["message"]


def test_a_handle_this_executor_never_made_is_refused(module):
    record = refusal(request(module, "method", "forward", handle=values.Handle("0" * 32),
                             args=[], kwargs={}))
    assert record["kind"] == "handle" and "keeps no object" in record["message"]


# -- harness ----------------------------------------------------------------------------------

def test_a_harness_helper_gets_the_students_module_first(module, harness):
    body = answer(request(module, "harness", "fit", harness=harness, args=[torch.ones(2)],
                          kwargs={"times": 3}))
    assert torch.equal(body["value"], 6 * torch.ones(2)) and module.CALLS == ["double"]


def test_a_homework_without_a_harness_has_no_harness_op(module):
    with pytest.raises(RuntimeError, match="this homework has no harness"):
        answer(request(module, "harness", "fit", args=[], kwargs={}))


# -- module -----------------------------------------------------------------------------------

def test_a_module_is_built_from_its_seed_and_reports_its_state(module):
    first = answer(request(module, "module", "Affine", init_args=[3], init_kwargs={},
                           init_seed=4, initial_state=True))
    again = answer(request(module, "module", "Affine", init_args=[3], init_kwargs={},
                           init_seed=4))
    other = answer(request(module, "module", "Affine", init_args=[3], init_kwargs={},
                           init_seed=5))
    assert first["state_meta"] == {"weight": {"shape": [3], "dtype": "float32"},
                                   "bias": {"shape": [3], "dtype": "float32"},
                                   "seen": {"shape": [], "dtype": "float32"}}
    assert torch.equal(first["state_dict"]["weight"], again["state_dict"]["weight"])
    assert not torch.equal(first["state_dict"]["weight"], other["state_dict"]["weight"])
    assert torch.equal(first["initial_state"]["weight"], first["state_dict"]["weight"])
    assert "initial_state" not in again and first["steps"] == []


def test_a_module_is_cast_loaded_and_stepped_in_train_and_eval_mode(module):
    state = {"weight": torch.tensor([1.0, 2.0], dtype=torch.float64),
             "bias": torch.tensor([0.5, 0.5], dtype=torch.float64),
             "seen": torch.tensor(0.0, dtype=torch.float64)}
    x, g = torch.tensor([1.0, 1.0], dtype=torch.float64), torch.tensor([1.0, 10.0],
                                                                       dtype=torch.float64)
    body = answer(request(module, "module", "Affine", init_args=[2], init_kwargs={},
                          dtype="float64", initial_state=True, state_dict=state,
                          steps=[{"mode": "train", "inputs": [x], "upstream": g,
                                  "return_state": True},
                                 {"mode": "eval", "inputs": [x], "upstream": None,
                                  "return_state": True},
                                 {"mode": "train", "inputs": [x]}]))
    assert body["initial_state"]["weight"].dtype == torch.float32  # before the cast
    train, evaluate, last = body["steps"]
    assert torch.equal(train["output"], torch.tensor([1.5, 2.5], dtype=torch.float64))
    assert torch.equal(train["input_grads"]["inputs[0]"], g * state["weight"])
    assert torch.equal(train["param_grads"]["weight"], g * x)
    assert torch.equal(train["param_grads"]["bias"], g)
    assert float(train["state_dict"]["seen"]) == 1.0  # a copy: later steps do not change it
    assert float(evaluate["state_dict"]["seen"]) == 1.0 and "input_grads" not in evaluate
    assert "state_dict" not in last and float(body["state_dict"]["seen"]) == 2.0
    assert body["state_dict"]["weight"].dtype == torch.float64


def test_a_state_dict_that_does_not_fit_is_refused(module):
    record = refusal(request(module, "module", "Affine", init_args=[2],
                             init_kwargs={"bias": False},
                             state_dict={"weight": torch.ones(2), "bias": torch.ones(2),
                                         "seen": torch.zeros(())}))
    assert record["kind"] == "state_dict" and "bias" in record["message"]


def test_the_ops_table_names_every_op():
    assert sorted(OPS) == ["call", "harness", "method", "module"]
