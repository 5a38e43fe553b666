"""Torch-built references and checks for hw4 (public: they use PyTorch only, never the
solutions). A reference that would be a part's solution (the MLP class, the whole dropout) is
a hidden-only helper (``hidden/hw4_hidden_refs.py``): the public tests check those parts by
tables and properties, and train_step by plain gradient descent rather than a training loop."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grader.judge.compare import Mismatch, assert_close
from grader.errors import MissingName, NotImplementedByStudent, StudentException

RELU_LAST_HINT = "no ReLU after the last Linear: the model outputs logits"


def harness_call(student, helper: str, target: str, *args: Any, **kwargs: Any) -> Any:
    """``student.harness(helper, ...)``, with failures named after the student's ``target``
    (the part), not after the harness helper."""
    try:
        return student.harness(helper, *args, **kwargs).value
    except NotImplementedByStudent:
        raise NotImplementedByStudent(f"`{target}` is not implemented yet") from None
    except StudentException as err:
        if f"has no attribute '{target}'" in err.message:
            raise MissingName(f"`{target}` is not defined in the submission") from None
        raise


def check_init(state: dict[str, torch.Tensor], linear_keys: Sequence[str], *,
               rel_tol: float = 0.1, kurtosis: bool = False) -> None:
    """Kaiming-normal (fan_in, ReLU gain) weights and zero biases, by their statistics."""
    for key in linear_keys:
        if f"{key}.weight" not in state or f"{key}.bias" not in state:
            raise Mismatch("state_dict", f"the MLP's state_dict has no {key}.weight / {key}.bias "
                                         f"(its keys are {sorted(state)})")
        w = state[f"{key}.weight"].detach().to(torch.float64)
        b = state[f"{key}.bias"].detach().to(torch.float64)
        want = (2.0 / w.shape[1]) ** 0.5
        std = float(w.std())
        if abs(std - want) > rel_tol * want:
            raise Mismatch("init", f"{key}.weight has std {std:.4g}, expected about "
                                   f"sqrt(2/fan_in) = {want:.4g} (fan_in = {w.shape[1]}); "
                                   "hint: nn.init.kaiming_normal_(w, mode='fan_in', "
                                   "nonlinearity='relu')")
        mean = float(w.mean())
        if abs(mean) > 0.05 * want + 5 * want / w.numel() ** 0.5:
            raise Mismatch("init", f"{key}.weight has mean {mean:.4g}, expected about 0")
        if kurtosis:
            z = (w - w.mean()) / w.std()
            kurt = float((z ** 4).mean())
            if abs(kurt - 3.0) > 0.4:
                raise Mismatch("init", f"{key}.weight does not look normally distributed "
                                       f"(kurtosis {kurt:.3g}, a normal law has 3, a uniform "
                                       "one 1.8); hint: use kaiming_normal_, not "
                                       "kaiming_uniform_")
        if b.numel() and float(b.abs().max()) != 0.0:
            raise Mismatch("init", f"{key}.bias is not zero (max |b| = "
                                   f"{float(b.abs().max()):.4g}); hint: nn.init.zeros_(bias)")


def accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    return float((logits.argmax(dim=1) == target).to(torch.float64).mean())


def l1_penalty(params: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack([p.abs().sum() for p in params]).sum()


def l2_penalty(params: list[torch.Tensor]) -> torch.Tensor:
    return 0.5 * torch.stack([p.pow(2).sum() for p in params]).sum()


def sgd_step(params: list[torch.Tensor], grads: list[torch.Tensor],
             velocities: list[torch.Tensor | None], lr: float, momentum: float = 0.0,
             weight_decay: float = 0.0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """One step of ``torch.optim.SGD`` from the given state (velocities as momentum buffers)."""
    ws = [p.detach().clone().requires_grad_(True) for p in params]
    opt = torch.optim.SGD(ws, lr=lr, momentum=momentum, weight_decay=weight_decay)
    for w, g, v in zip(ws, grads, velocities, strict=True):
        w.grad = g.detach().clone()
        if v is not None and momentum != 0:
            opt.state[w]["momentum_buffer"] = v.detach().clone()
    opt.step()
    if momentum != 0:
        vel = [opt.state[w]["momentum_buffer"].detach() for w in ws]
    else:  # no buffer in torch: the velocity is the decayed gradient (the notes' formula)
        vel = [g.detach() + weight_decay * p.detach() for p, g in zip(params, grads, strict=True)]
    return [w.detach() for w in ws], vel


def step_lr(base_lr: float, epoch: int, step_size: int, gamma: float) -> float:
    """The learning rate of ``StepLR`` after ``epoch`` calls of ``scheduler.step()``."""
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=base_lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epoch):
            opt.step()
            sched.step()
    return float(opt.param_groups[0]["lr"])


def kfold_indices(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The folds by ``torch.tensor_split``, whose first ``n % k`` blocks are the longer ones."""
    blocks = torch.tensor_split(torch.arange(n), k)
    none = torch.zeros(0, dtype=torch.int64)
    return [(torch.cat([b for j, b in enumerate(blocks) if j != i] or [none]), blocks[i])
            for i in range(k)]


def build_net(state: dict[str, torch.Tensor]) -> nn.Module:
    """The small classifier of the harness (Linear, ReLU, Linear) holding ``state``."""
    w0, w2 = state["0.weight"], state["2.weight"]
    net = nn.Sequential(nn.Linear(w0.shape[1], w0.shape[0]), nn.ReLU(),
                        nn.Linear(w2.shape[1], w2.shape[0]))
    net.to(w0.dtype)
    net.load_state_dict(state)
    return net


def random_net_state(rng: torch.Generator, d: int, h: int, c: int,
                     dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {"0.weight": torch.randn(h, d, generator=rng, dtype=dtype) / d ** 0.5,
            "0.bias": torch.randn(h, generator=rng, dtype=dtype) * 0.1,
            "2.weight": torch.randn(c, h, generator=rng, dtype=dtype) / h ** 0.5,
            "2.bias": torch.randn(c, generator=rng, dtype=dtype) * 0.1}


def gradient_descent(state: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                     lr: float, momentum: float, steps: int) -> dict[str, Any]:
    """What ``steps`` right train_step calls do to the harness's net, in float64, without an
    optimizer or a backward call: autograd's gradient of the cross-entropy (the net run by
    ``torch.func.functional_call``), then SGD's rule v ← momentum·v + g, w ← w − lr·v."""
    net = build_net({k: v.to(torch.float64) for k, v in state.items()})
    params = {k: v.detach().to(torch.float64) for k, v in state.items()}
    x64 = x.to(torch.float64)
    velocity: dict[str, torch.Tensor] = {}
    losses, trajectory = [], []
    for _step in range(steps):
        leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        loss = F.cross_entropy(torch.func.functional_call(net, leaves, (x64,)), y)
        grads = torch.autograd.grad(loss, list(leaves.values()))
        losses.append(loss.item())
        for (key, w), g in zip(leaves.items(), grads, strict=True):
            velocity[key] = momentum * velocity[key] + g if key in velocity else g
            params[key] = (w - lr * velocity[key]).detach()
        trajectory.append(dict(params))
    return {"losses": losses, "params": params, "trajectory": trajectory}


def check_train_step(student, ref_fn, state: dict[str, torch.Tensor], x: torch.Tensor,
                     y: torch.Tensor, lr: float, momentum: float, steps: int) -> None:
    """Run ``train_step`` through the harness and compare, step by step, the loss it returned
    and the parameters after it with ``ref_fn(state, x, y, lr, momentum, steps)`` (a float64
    run of the same net), naming the first step at which the student's trajectory leaves
    the reference's."""
    dtype = x.dtype
    got = harness_call(student, "run_train_step", "train_step", state, x, y, lr=lr,
                       momentum=momentum, steps=steps)
    want = ref_fn(state, x, y, lr, momentum, steps)
    losses = got.get("losses") if isinstance(got, dict) else None
    if not isinstance(losses, list) or len(losses) != steps:
        raise Mismatch("type", "the harness got no losses back from train_step")
    for i, loss in enumerate(losses):
        if isinstance(loss, bool) or not isinstance(loss, float):
            what = "a Tensor" if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise Mismatch("type", f"train_step returned {what} at step {i + 1}, expected a "
                                   "Python float; hint: return loss.item()")
    got_path = got.get("trajectory") or [None] * (steps - 1) + [got.get("params")]
    want_path = want.get("trajectory") or [None] * (steps - 1) + [want["params"]]
    for i in range(steps):
        try:
            _check_train_step_at(i, losses[i], want["losses"][i], got_path[i], want_path[i],
                                 dtype)
        except Mismatch as mismatch:
            raise at_step("train_step", mismatch, i + 1, steps) if steps > 1 else mismatch \
                from None


def _check_train_step_at(i: int, loss: float, want_loss: float, params: Any, want_params: Any,
                         dtype: torch.dtype) -> None:
    """The loss train_step returned at step ``i`` and the parameters after it (None: not
    recorded for this step)."""
    assert_close(torch.tensor([loss], dtype=dtype), torch.tensor([want_loss], dtype=torch.float64),
                 name="the loss returned by train_step", profile="loose", dtype=dtype,
                 hint="return F.cross_entropy(model(x), y).item(), computed before the step"
                 if i == 0 else "call optimizer.zero_grad() before backward, or gradients "
                 "accumulate")
    if want_params is not None:
        assert_close(params, want_params, name=f"the parameters after train_step call {i + 1}",
                     profile="loose", dtype=dtype,
                     hint="zero the grads, compute the loss, backward, then optimizer.step()")


def relu_last_hint(m: Mismatch) -> str | None:
    return RELU_LAST_HINT if m.stage in ("values", "structure") else None


SGD_HINT = ("PyTorch's order is g ← g + weight_decay·w, then v ← momentum·v + g (v ← g on the "
            "first step), then w ← w − lr·v")


def at_step(what: str, mismatch: Mismatch, step: int, steps: int) -> Mismatch:
    """``mismatch`` led by the step of a multi-step run at which the student's trajectory
    leaves the reference's (the steps before agree)."""
    before = f" (the {step - 1} before agree)" if step > 2 else \
        " (the one before agrees)" if step == 2 else ""
    lead = f"{what} leaves the reference's trajectory at step {step} of {steps}{before}"
    return Mismatch(mismatch.stage, f"{lead}: {mismatch.message}",
                    public_message=f"{lead}: {mismatch.public_message}",
                    details={**mismatch.details, "step": step, "steps": steps})


def run_sgd(student, check_function, params: list[torch.Tensor], grads: list[list[torch.Tensor]],
            *, lr: float, momentum: float | None = None,
            weight_decay: float | None = None) -> None:
    """``len(grads)`` calls of sgd_step, each compared with one step of torch.optim.SGD from
    the state the student returned (so a wrong step is reported where it happens, with its
    number). An option left as None is left out of the call: the student's default must be
    the curriculum's."""
    velocities: list[Any] = [None] * len(params)
    options = {k: v for k, v in (("momentum", momentum), ("weight_decay", weight_decay))
               if v is not None}
    for step, g in enumerate(grads):
        try:
            result = check_function(student, "sgd_step", sgd_step, params, g, velocities, lr=lr,
                                    **options, profile="accumulate", hint=SGD_HINT)
        except Mismatch as mismatch:
            raise at_step("sgd_step", mismatch, step + 1, len(grads)) from None
        params, velocities = result.value
        params, velocities = list(params), list(velocities)


def nan_hint(text: str):
    """A hint shown only when the student's values are nan or inf."""
    return lambda m: text if m.stage == "values" and "nonfinite" in m.details else None


# -- dropout: the docstring's draw and formula (the whole reference is hidden-only) -----------

def drawn_keep(seed: int, x: torch.Tensor, p: float, device: str) -> torch.Tensor:
    """The units the docstring's draw keeps: ``torch.rand(x.shape, ..., dtype=x.dtype) >= p``
    from a generator seeded ``seed`` on the student's ``device`` (returned on the CPU)."""
    gen = torch.Generator(device=device).manual_seed(seed)
    return (torch.rand(x.shape, generator=gen, dtype=x.dtype, device=device) >= p).cpu()


def masked(keep: torch.Tensor):
    """Training-mode dropout as the docstring defines it for the mask ``keep`` and ``p < 1``:
    the kept units divided by ``1 - p``, the others 0."""

    def ref(x: torch.Tensor, p: float, training: bool, generator: Any = None) -> torch.Tensor:
        return torch.where(keep, x / (1 - p), torch.zeros_like(x))

    return ref


def unchanged(x: torch.Tensor, p: float, training: bool, generator: Any = None) -> torch.Tensor:
    """Dropout in eval mode: ``x`` itself."""
    return x


# -- MLP: layout tables and properties (the torch-built MLP is hidden-only) -------------------

STATE_HINT = ("self.model = nn.Sequential(Linear, ReLU, [Dropout,] ..., Linear): the keys are "
              "model.<position of each Linear>.weight and .bias")


def check_layers(student, sizes: Sequence[int], dropout: float, want: Sequence[str]) -> None:
    """The layers of the student's ``MLP(sizes, dropout).model`` are ``want``, one string
    each, as the harness's ``mlp_structure`` writes them."""
    got = harness_call(student, "mlp_structure", "MLP", list(sizes), dropout=dropout)
    if got != list(want):
        text = f"MLP({tuple(sizes)}, dropout={dropout}).model is [{', '.join(map(str, got))}], " \
               f"expected [{', '.join(want)}]"
        raise Mismatch("structure", text).with_hint(
            RELU_LAST_HINT if got and got[-1] == "ReLU" else
            "put nn.Dropout(dropout) right after each hidden ReLU" if dropout > 0 else None)


def _call(init_kwargs: Mapping[str, Any]) -> str:
    return f"MLP({', '.join(f'{k}={v!r}' for k, v in init_kwargs.items())})"


def check_state_table(student, table: Mapping[str, tuple[int, ...]],
                      init_kwargs: Mapping[str, Any] | None = None) -> None:
    """A freshly built ``MLP(**init_kwargs)`` has exactly the state_dict keys and shapes of
    ``table`` (written out in the test), in float32."""
    got = student.module("MLP", init_kwargs=init_kwargs).state_meta
    call = _call(init_kwargs or {})
    if set(got) != set(table):
        missing, extra = sorted(set(table) - set(got)), sorted(set(got) - set(table))
        raise Mismatch("state_dict", f"{call}'s state_dict keys differ: missing {missing}, "
                                     f"unexpected {extra}").with_hint(STATE_HINT)
    for key, shape in table.items():
        if got[key].get("shape") != list(shape):
            raise Mismatch("state_dict", f"{call}'s {key} has shape "
                                         f"{tuple(got[key].get('shape') or ())}, expected "
                                         f"{shape}; hint: nn.Linear(sizes[i], sizes[i + 1]) "
                                         "holds a weight [sizes[i + 1], sizes[i]]")
        if got[key].get("dtype") != "float32":
            raise Mismatch("state_dict", f"{call}'s {key} has dtype {got[key].get('dtype')}, "
                                         "expected float32 (nn.Linear's default)")


def _linear_keys(table: Mapping[str, tuple[int, ...]]) -> list[str]:
    """The Linear layers' key prefixes of a table, in order (``model.0``, ``model.2``...)."""
    prefixes = {k.rsplit(".", 1)[0] for k in table}
    return sorted(prefixes, key=lambda k: int(k.rsplit(".", 1)[1]))


def random_state(table: Mapping[str, tuple[int, ...]],
                 rng: torch.Generator) -> dict[str, torch.Tensor]:
    """float64 tensors with the table's keys and shapes (weights ``N(0, 1/fan_in)``)."""
    state = {}
    for key, shape in table.items():
        fan_in = shape[-1] if len(shape) > 1 else 4
        state[key] = torch.randn(shape, generator=rng, dtype=torch.float64) / fan_in ** 0.5
    return state


def mlp_outputs(student, sizes: Sequence[int], state: dict[str, torch.Tensor],
                inputs: Sequence[torch.Tensor], modes: Sequence[str]) -> list[torch.Tensor]:
    """The outputs of the student's ``MLP(sizes)`` holding ``state`` (float64) on each input,
    in its mode; each must be a ``[N, sizes[-1]]`` tensor."""
    steps = [{"mode": m, "inputs": [x]} for x, m in zip(inputs, modes, strict=True)]
    result = student.module("MLP", init_kwargs={"sizes": tuple(sizes)}, state_dict=state,
                            dtype=torch.float64, steps=steps)
    outs = []
    for x, mode, step in zip(inputs, modes, result.steps, strict=True):
        out, want = step.get("output"), (x.shape[0], sizes[-1])
        where = f"the output of MLP({tuple(sizes)}) ({mode}) on x of shape {tuple(x.shape)}"
        if not isinstance(out, torch.Tensor):
            raise Mismatch("type", f"{where} is a {type(out).__name__}, expected a Tensor")
        if tuple(out.shape) != want:
            raise Mismatch("shape", f"{where} has shape {tuple(out.shape)}, expected {want}")
        outs.append(out)
    return outs


def check_logits(student, sizes: Sequence[int], table: Mapping[str, tuple[int, ...]],
                 rng: torch.Generator) -> None:
    """With the last Linear's weight set to 0, every row of the output is that Linear's
    bias, negative entries too (the model outputs logits), in train and in eval mode."""
    state = random_state(table, rng)
    last = _linear_keys(table)[-1]
    state[f"{last}.weight"].zero_()
    bias = torch.linspace(-2.0, 1.0, sizes[-1], dtype=torch.float64)
    state[f"{last}.bias"] = bias
    x = torch.randn(5, sizes[0], generator=rng, dtype=torch.float64)
    outs = mlp_outputs(student, sizes, state, [x, x], ("train", "eval"))
    for out, mode in zip(outs, ("train", "eval"), strict=True):
        assert_close(out, bias.expand(5, -1), profile="accumulate",
                     name=f"MLP({tuple(sizes)}) ({mode}) with {last}.weight set to 0",
                     hint=f"the output is the last Linear's output, {last}.bias here; "
                          f"{RELU_LAST_HINT}")


def check_relu_between(student, sizes: Sequence[int], table: Mapping[str, tuple[int, ...]],
                       rng: torch.Generator) -> None:
    """With zero biases a Linear-ReLU network is positively homogeneous, MLP(2x) = 2·MLP(x),
    and it is not linear: MLP(-x) is not -MLP(x)."""
    state = random_state(table, rng)
    for key in _linear_keys(table):
        state[f"{key}.bias"].zero_()
    x = torch.randn(6, sizes[0], generator=rng, dtype=torch.float64)
    out, doubled, negated = mlp_outputs(student, sizes, state, [x, 2 * x, -x], ("eval",) * 3)
    assert_close(doubled, 2 * out, profile="accumulate",
                 name=f"MLP({tuple(sizes)})(2x) with zero biases, against 2·MLP(x)",
                 hint="put nn.ReLU() between the Linear layers: relu(2z) = 2·relu(z), which "
                      "other activations (sigmoid, tanh) do not satisfy")
    if torch.allclose(negated, -out, rtol=1e-6, atol=1e-9):
        raise Mismatch("values", f"MLP({tuple(sizes)}) is linear: MLP(-x) = -MLP(x) with zero "
                                 "biases; hint: put nn.ReLU() after every Linear but the last")
