"""Torch-built references for hw4 (public: they use PyTorch only, never the solutions)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grader.judge.compare import Mismatch, assert_close
from grader.errors import MissingName, NotImplementedByStudent, StudentException

RELU_LAST_HINT = "no ReLU after the last Linear: the model outputs logits"


class ReferenceMLP(nn.Module):
    """The architecture of the MLP part (PyTorch's default init; tests load its state)."""

    def __init__(self, sizes: Sequence[int], dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def structure(module: nn.Module) -> list[str]:
    """The layers of ``module.model`` as strings, like the harness's ``mlp_structure``."""
    out = []
    for layer in module.model:
        if isinstance(layer, nn.Linear):
            out.append(f"Linear({layer.in_features}, {layer.out_features})")
        elif isinstance(layer, nn.Dropout):
            out.append(f"Dropout({layer.p})")
        else:
            out.append(type(layer).__name__)
    return out


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


def dropout_reference(seed: int, dtype: torch.dtype, device: str = "cpu"):
    """The dropout of the docstring, with the mask drawn as the student must draw it (in the
    student's dtype, on the student's device); the values are then computed in float64."""

    def ref(x: torch.Tensor, p: float, training: bool, generator: Any = None) -> torch.Tensor:
        if not training:
            return x * 1
        gen = torch.Generator(device=device).manual_seed(seed)
        keep = (torch.rand(x.shape, generator=gen, dtype=dtype, device=device) >= p).cpu()
        if p >= 1:
            return x * keep
        return x * keep / (1 - p)

    return ref


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
    index = torch.arange(n)
    blocks = torch.tensor_split(index, k)
    return [(torch.cat([b for j, b in enumerate(blocks) if j != i] or [index[:0]]), blocks[i])
            for i in range(k)]


def build_net(state: dict[str, torch.Tensor]) -> nn.Module:
    """The small classifier of the harness (Linear, ReLU, Linear) holding ``state``."""
    w0, w2 = state["0.weight"], state["2.weight"]
    net = nn.Sequential(nn.Linear(w0.shape[1], w0.shape[0]), nn.ReLU(),
                        nn.Linear(w2.shape[1], w2.shape[0]))
    net.to(w0.dtype)
    net.load_state_dict(state)
    return net


def train_steps(state: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                lr: float, momentum: float, steps: int) -> dict[str, Any]:
    """``steps`` training steps of the harness's net with SGD, in float64."""
    net = build_net({k: v.to(torch.float64) for k, v in state.items()})
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    x = x.to(torch.float64)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"losses": losses, "params": {k: v.detach() for k, v in net.state_dict().items()}}


def random_net_state(rng: torch.Generator, d: int, h: int, c: int,
                     dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {"0.weight": torch.randn(h, d, generator=rng, dtype=dtype) / d ** 0.5,
            "0.bias": torch.randn(h, generator=rng, dtype=dtype) * 0.1,
            "2.weight": torch.randn(c, h, generator=rng, dtype=dtype) / h ** 0.5,
            "2.bias": torch.randn(c, generator=rng, dtype=dtype) * 0.1}


def check_train_step(student, ref_fn, state: dict[str, torch.Tensor], x: torch.Tensor,
                     y: torch.Tensor, lr: float, momentum: float, steps: int) -> None:
    """Run ``train_step`` through the harness and compare losses and parameters with
    ``ref_fn(state, x, y, lr, momentum, steps)`` (a float64 run of the same net)."""
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
    got_losses = torch.tensor(losses, dtype=dtype)
    want_losses = torch.tensor(want["losses"], dtype=torch.float64)
    assert_close(got_losses[:1], want_losses[:1], name="the loss returned by train_step",
                 profile="loose", dtype=dtype,
                 hint="return F.cross_entropy(model(x), y).item(), computed before the step")
    assert_close(got_losses, want_losses,
                 name="the list of losses returned by consecutive train_step calls",
                 profile="loose", dtype=dtype,
                 hint="call optimizer.zero_grad() before backward, or gradients accumulate")
    assert_close(got.get("params"), want["params"], name=f"the parameters after {steps} "
                 "train_step call(s)", profile="loose", dtype=dtype,
                 hint="zero the grads, compute the loss, backward, then optimizer.step()")


def randomize(module: nn.Module, rng: torch.Generator) -> nn.Module:
    """Fill a module's parameters from ``rng`` (so tests do not depend on global RNG)."""
    with torch.no_grad():
        for p in module.parameters():
            fan_in = p.shape[1] if p.dim() > 1 else 4
            p.copy_(torch.randn(p.shape, generator=rng, dtype=p.dtype) / fan_in ** 0.5)
    return module


def relu_last_hint(m: Mismatch) -> str | None:
    return RELU_LAST_HINT if m.stage in ("values", "structure") else None


def check_structure(student, sizes: Sequence[int], dropout: float = 0.0) -> None:
    """The layers of the student's ``MLP(sizes, dropout).model`` equal the reference's."""
    got = harness_call(student, "mlp_structure", "MLP", list(sizes), dropout=dropout)
    want = structure(ReferenceMLP(sizes, dropout))
    if got != want:
        text = f"MLP({tuple(sizes)}, dropout={dropout}).model is [{', '.join(map(str, got))}], " \
               f"expected [{', '.join(want)}]"
        raise Mismatch("structure", text).with_hint(
            RELU_LAST_HINT if got and got[-1] == "ReLU" else
            "put nn.Dropout(dropout) right after each hidden ReLU" if dropout > 0 else None)


def run_sgd(student, check_function, params: list[torch.Tensor], grads: list[list[torch.Tensor]],
            *, lr: float, momentum: float | None = None,
            weight_decay: float | None = None) -> None:
    """``len(grads)`` calls of sgd_step, each compared with one step of torch.optim.SGD from
    the state the student returned (so a wrong step is reported where it happens). An option
    left as None is left out of the call: the student's default must be the curriculum's."""
    velocities: list[Any] = [None] * len(params)
    options = {k: v for k, v in (("momentum", momentum), ("weight_decay", weight_decay))
               if v is not None}
    for step, g in enumerate(grads):
        result = check_function(
            student, "sgd_step", sgd_step, params, g, velocities, lr=lr, **options,
            profile="accumulate",
            hint=f"step {step + 1}: PyTorch's order is g ← g + weight_decay·w, then "
                 "v ← momentum·v + g (v ← g on the first step), then w ← w − lr·v")
        params, velocities = result.value
        params, velocities = list(params), list(velocities)


def nan_hint(text: str):
    """A hint shown only when the student's values are nan or inf."""
    return lambda m: text if m.stage == "values" and "nonfinite" in m.details else None
