"""Checks of hw5's ResBlock by its properties (public). Its torch-built reference is the
part's solution, so it is a hidden-only helper (``hidden/hw5_hidden_refs.py``); these check
what the docstring promises without it: the layers and the state_dict (from tables the tests
write out), the output's shape, where the ReLUs are, what each shortcut computes when the
residual branch gives 0, and that every parameter gets a gradient."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from hw5_refs import StateTable, random_state

from grader.judge.compare import Mismatch, assert_close
from grader.errors import MissingName, NotImplementedByStudent, StudentException
from grader.judge.proxy import ModuleResult, Student

BN_EPS = 1e-5
BRANCH = 0.5
"""The constant the residual branch gives in the shortcut checks (bn2's weight 0, its bias
this): positive, so that the final ReLU clips only where the shortcut is below -0.5."""
RELU_HINT = "output = relu(bn2(conv2(...)) + extra(x)): the ReLU comes after the addition"
SHORTCUT_HINT = ("when the channels or the stride change, extra is Sequential(Conv2d(ch_in, "
                 "ch_out, 1, stride, bias=False), BatchNorm2d(ch_out)); otherwise it is "
                 "nn.Sequential(), the identity")
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


@dataclass(frozen=True)
class Block:
    """A ResBlock a test builds: its constructor's arguments, its state table and its
    layers as the harness's ``resblock_layers`` describes them."""

    args: tuple[int, ...]
    table: StateTable
    layers: Mapping[str, str]
    kwargs: Mapping[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        shown = [str(a) for a in self.args] + [f"{k}={v}" for k, v in self.kwargs.items()]
        return f"ResBlock({', '.join(shown)})"

    def state(self, rng: torch.Generator, *,
              branch: float | None = None) -> dict[str, torch.Tensor]:
        """A float64 state for the table (``num_batches_tracked`` 0). With ``branch``, bn2's
        weight is 0 and its bias ``branch``: the residual branch gives that constant
        everywhere and the block returns ``relu(branch + extra(x))``."""
        floating = {k: shape for k, (shape, dtype) in self.table.items() if dtype != "int64"}
        state = random_state(floating, rng)
        state.update({k: torch.zeros(shape, dtype=torch.int64)
                      for k, (shape, dtype) in self.table.items() if dtype == "int64"})
        if branch is not None:
            state["bn2.weight"].zero_()
            state["bn2.bias"].fill_(branch)
        return state

    def run(self, student: Student, state: dict[str, torch.Tensor],
            steps: Sequence[Mapping[str, object]]) -> ModuleResult:
        """The student's block holding ``state`` (float64), run for ``steps``."""
        return student.module("ResBlock", *self.args, init_kwargs=dict(self.kwargs),
                              state_dict=state, dtype=torch.float64, steps=steps)

    def outputs(self, student: Student, state: dict[str, torch.Tensor], x: torch.Tensor,
                modes: Sequence[str]) -> list[torch.Tensor]:
        """The block's output on ``x`` in each mode (each must be a Tensor)."""
        result = self.run(student, state, [{"mode": m, "inputs": [x]} for m in modes])
        outs = [step.get("output") for step in result.steps]
        for mode, out in zip(modes, outs, strict=True):
            if not isinstance(out, torch.Tensor):
                raise Mismatch("type", f"the output of {self} ({mode}) is a "
                                       f"{type(out).__name__}, expected a Tensor")
        return outs


def check_layers(student: Student, block: Block) -> None:
    """The student's block holds the layers of the table, built with its arguments."""
    try:
        got = student.harness("resblock_layers", *block.args, **block.kwargs).value
    except NotImplementedByStudent:
        raise NotImplementedByStudent("`ResBlock` is not implemented yet") from None
    except StudentException as err:
        if "has no attribute 'ResBlock'" in err.message:
            raise MissingName("`ResBlock` is not defined in the submission") from None
        raise
    want = dict(block.layers)
    if got != want:
        wrong = [f"{k}: {got.get(k, 'missing')} (expected {want.get(k, 'none')})"
                 for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]
        raise Mismatch("structure", f"the layers of {block} differ: {'; '.join(wrong)}"
                       ).with_hint(SHORTCUT_HINT if any(k.startswith("extra") for k in
                                                        set(got) ^ set(want)) else None)


def check_output(student: Student, block: Block, x: torch.Tensor, shape: tuple[int, ...],
                 rng: torch.Generator) -> None:
    """In train and in eval mode the output has ``shape`` (written out in the test) and no
    negative value: the block ends with a ReLU, after the addition."""
    for mode, out in zip(("train", "eval"), block.outputs(student, block.state(rng), x,
                                                          ("train", "eval")), strict=True):
        where = f"the output of {block} ({mode}) on x of shape {tuple(x.shape)}"
        if tuple(out.shape) != shape:
            raise Mismatch("shape", f"{where} has shape {tuple(out.shape)}, expected {shape}; "
                                    "hint: conv1 and the shortcut both take the stride")
        if float(out.min()) < 0:
            raise Mismatch("values", f"{where} has negative values (min {float(out.min()):.4g})"
                                     f"; hint: {RELU_HINT}")


def check_identity_shortcut(student: Student, block: Block, x: torch.Tensor,
                            rng: torch.Generator) -> None:
    """With a residual branch giving the constant ``BRANCH``, a block whose shape does not
    change returns relu(BRANCH + x): its shortcut is the identity (train and eval mode)."""
    state = block.state(rng, branch=BRANCH)
    for mode, out in zip(("train", "eval"), block.outputs(student, state, x, ("train", "eval")),
                         strict=True):
        assert_close(out, F.relu(BRANCH + x.to(torch.float64)), profile="accumulate",
                     name=f"{block} ({mode}) with bn2's weight set to 0 and its bias to "
                          f"{BRANCH}", hint=f"the block is then relu({BRANCH} + extra(x)) = "
                                            f"relu({BRANCH} + x); {SHORTCUT_HINT}; {RELU_HINT}")


def check_relu_after_bn1(student: Student, block: Block, x: torch.Tensor,
                         rng: torch.Generator) -> None:
    """In eval mode, with conv1's weight 0 and bn1's running mean 0 and bias negative, bn1
    gives each channel its (negative) bias, which the ReLU after bn1 turns into 0; conv2 then
    gives 0 and bn2 a constant per channel: a block with the identity shortcut returns
    relu(x + bn2(0))."""
    if "extra.0.weight" in block.table:
        raise ValueError(f"{block} has a projection shortcut: this check needs the identity")
    state = block.state(rng)
    state["conv1.weight"].zero_()
    state["bn1.running_mean"].zero_()
    state["bn1.bias"] = -state["bn1.bias"].abs() - 0.5
    bn2_of_zero = state["bn2.bias"] - state["bn2.weight"] * state["bn2.running_mean"] / \
        (state["bn2.running_var"] + BN_EPS) ** 0.5
    want = F.relu(x.to(torch.float64) + bn2_of_zero.view(1, -1, 1, 1))
    (out,) = block.outputs(student, state, x, ("eval",))
    assert_close(out, want, profile="accumulate",
                 name=f"{block} (eval) with conv1's weight set to 0 and bn1 giving negative "
                      "values", hint="out = relu(bn1(conv1(x))): the ReLU comes right after bn1 "
                                     "(it turns bn1's negative values into 0 before conv2)")


def check_projection_shortcut(student: Student, block: Block, x: torch.Tensor,
                              rng: torch.Generator) -> None:
    """With a residual branch giving the constant ``BRANCH`` and the shortcut's BatchNorm
    holding mean 0, variance 1, weight 1 and bias 0, the eval-mode block returns
    relu(BRANCH + conv1x1(x) / sqrt(1 + eps)), the 1x1 convolution taking the block's stride
    (and nothing after the BatchNorm)."""
    state = block.state(rng, branch=BRANCH)
    if "extra.0.weight" not in block.table:
        raise ValueError(f"{block} has the identity shortcut: this check needs a projection")
    state["extra.1.running_mean"].zero_()
    state["extra.1.running_var"].fill_(1.0)
    state["extra.1.weight"].fill_(1.0)
    state["extra.1.bias"].zero_()
    stride = block.kwargs.get("stride", 1)
    conv = F.conv2d(x.to(torch.float64), state["extra.0.weight"], stride=stride)
    (out,) = block.outputs(student, state, x, ("eval",))
    assert_close(out, F.relu(BRANCH + conv / (1 + BN_EPS) ** 0.5), profile="accumulate",
                 name=f"{block} (eval) with bn2's weight set to 0, its bias to {BRANCH} and "
                      "extra.1 normalising nothing", hint=SHORTCUT_HINT)


def check_every_parameter_learns(student: Student, block: Block, x: torch.Tensor,
                                 shape: tuple[int, ...], rng: torch.Generator) -> None:
    """After a train-mode step, every parameter of the table has a non-zero gradient: the
    forward pass uses every layer."""
    upstream = torch.randn(shape, generator=rng, dtype=torch.float64)
    result = block.run(student, block.state(rng), [{"mode": "train", "inputs": [x],
                                                    "upstream": upstream}])
    grads = result.steps[0].get("param_grads") or {}
    for key in block.table:
        if key.endswith(_BUFFERS):
            continue
        grad = grads.get(key)
        if grad is None or not bool(grad.abs().sum() > 0):
            raise Mismatch("gradients", f"{key} of {block} gets no gradient from the output; "
                                        "hint: forward uses conv1, bn1, conv2, bn2 and extra")
