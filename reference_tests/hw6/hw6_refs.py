"""Torch-built references and checks for hw6 (public: they use PyTorch only, never the
solutions)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import safe_open
from torch import nn

from grader.checks import check_module
from grader.compare import Mismatch, assert_close
from grader.errors import MissingName, NotImplementedByStudent, StudentException
from grader.proxy import Student, generator
from grader.scoring import tiered

TRAIN_FILE = Path(__file__).resolve().parents[2] / "assignments" / "hw6" / "data" / \
    "digits_train.safetensors"


def stage_hint(stages: Sequence[str], text: str):
    """A hint shown for a mismatch at one of ``stages``."""
    return lambda m: text if m.stage in stages else None


def layout_hint(candidates: dict[str, torch.Tensor], generic: str | None = None):
    """A hint that names the mistake whose result the student's value matches, read off the
    worst mismatching element (its index and value); ``candidates`` maps each hint to the
    result that mistake gives on the test's inputs."""

    def hint(m: Mismatch) -> str | None:
        if m.stage == "shape":
            return generic
        if m.stage != "values" or "index" not in m.details or "got" not in m.details:
            return None
        index, got = tuple(m.details["index"]), m.details["got"]
        for text, wrong in candidates.items():
            if wrong.dim() == len(index) and all(i < s for i, s in zip(index, wrong.shape)) \
                    and math.isclose(float(wrong[index]), got, rel_tol=1e-5, abs_tol=1e-6):
                return text
        return generic

    return hint


def harness_call(student: Student, helper: str, target: str, *args: Any, **kwargs: Any) -> Any:
    """``student.harness(helper, ...)``, with failures named after the part ``target``."""
    try:
        return student.harness(helper, *args, **kwargs).value
    except NotImplementedByStudent:
        raise NotImplementedByStudent(f"`{target}` is not implemented yet") from None
    except StudentException as err:
        if f"has no attribute '{target}'" in err.message:
            raise MissingName(f"`{target}` is not defined in the submission") from None
        raise


def check_raises_value_error(student: Student, name: str, *args: Any, why: str) -> None:
    """The student's ``name(*args)`` must raise ValueError (``why`` says why it should)."""
    try:
        result = student.call(name, *args)
    except StudentException as exc:
        if f"`{name}` raised ValueError" in exc.message:
            return
        raised = exc.message.split(":", 1)[0].removeprefix(f"`{name}` ")
        raise Mismatch("values", f"`{name}` {raised}, expected ValueError ({why})") from None
    got = type(result.value).__name__
    raise Mismatch("values", f"`{name}` returned a {got} instead of raising ValueError ({why})")


# -- modules ------------------------------------------------------------------------------------

class TorchLeNet5(nn.Module):
    """The curriculum's LeNet-5, built from torch modules."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        convs = [nn.Conv2d(in_channels, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                 nn.MaxPool2d(2)]
        sizes = [400, 120, 84, num_classes]
        fcs: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            fcs += [nn.Linear(a, b), nn.ReLU()]
        self.conv_unit = nn.Sequential(*convs)
        self.fc_unit = nn.Sequential(*fcs[:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc_unit(torch.flatten(self.conv_unit(x), start_dim=1))


class TorchDenseBlock(nn.Module):
    """The curriculum's dense block, built from torch modules."""

    def __init__(self, in_channels: int, growth_rate: int, num_layers: int) -> None:
        super().__init__()
        widths = [in_channels + growth_rate * i for i in range(num_layers)]
        self.layers = nn.ModuleList([
            nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, growth_rate, (3, 3),
                                                                  padding=(1, 1), bias=False))
            for c in widths])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for block in self.layers:
            features.append(block(torch.cat(features, 1)))
        return torch.cat(features, 1)


def randomize(module: nn.Module, rng: torch.Generator) -> nn.Module:
    """Random parameters and BatchNorm buffers (running_var positive), so that every
    parameter and buffer matters in the comparison."""
    with torch.set_grad_enabled(False):
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            fan_in = t[0].numel() if t.dim() > 1 else 4
            values = torch.randn(t.shape, generator=rng, dtype=torch.float64) / fan_in ** 0.5
            if name.endswith("running_var") or (name.endswith("weight") and t.dim() == 1):
                values = values.abs() + 0.5
            t.copy_(values.to(t.dtype))
    return module


LENET_HINT = ("conv_unit is Conv2d(in_channels, 6, 5), MaxPool2d(2, 2), Conv2d(6, 16, 5), "
              "MaxPool2d(2, 2), with no activation; fc_unit is Linear(400, 120), ReLU, "
              "Linear(120, 84), ReLU, Linear(84, num_classes)")
DENSE_HINT = ("layer i sees in_channels + i * growth_rate channels: concatenate each layer's "
              "output to its input with torch.cat([x, layer(x)], dim=1), do not add them")


def check_layers(student: Student, name: str, reference: nn.Module, *init_args: Any,
                 hint: Any, **kwargs: Any) -> None:
    """``check_module``, with ``hint`` also on a state_dict that does not load (the layers
    differ from the curriculum's)."""
    try:
        check_module(student, name, reference, *init_args, hint=hint, **kwargs)
    except Mismatch as mismatch:
        if mismatch.stage == "state_dict" and "; hint:" not in mismatch.message:
            raise mismatch.with_hint(hint) from None
        raise


def dense_hint(m: Mismatch) -> str | None:
    if m.stage in ("state_dict", "shape"):
        return DENSE_HINT
    if m.stage == "values":
        return "each layer is BatchNorm2d, ReLU, then the 3x3 convolution (padding 1, no bias)"
    return None


# -- flips and rotations ------------------------------------------------------------------------

def hflip(x: torch.Tensor) -> torch.Tensor:
    return torch.flip(x, dims=(3,))


def vflip(x: torch.Tensor) -> torch.Tensor:
    return torch.flip(x, dims=(2,))


def rot90(x: torch.Tensor, k: int) -> torch.Tensor:
    return torch.rot90(x, k, dims=(2, 3))


def flip_hint(x: torch.Tensor, name: str):
    own, other = ("W (the last dimension)", "vflip") if name == "hflip" else \
        ("H (dimension 2)", "hflip")
    wrong = vflip(x) if name == "hflip" else hflip(x)
    return layout_hint({
        f"{name} reverses {own}; you reversed the other axis, which is {other}": wrong,
        f"{name} mirrors: reverse the indices along {own.split(' ')[0]}; a transpose swaps H "
        "and W instead": x.transpose(2, 3),
    })


def rot90_hint(x: torch.Tensor, k: int):
    candidates = {}
    if k % 2:
        candidates["rot90 turns counter-clockwise (as torch.rot90 does): k = 1 takes the "
                   "top-right corner to the top left; you turned clockwise"] = rot90(x, -k)
        candidates["a quarter turn is a flip and a swap of H and W: hflip, then "
                   "transpose(2, 3); a transpose alone mirrors along the diagonal"] = \
            x.transpose(2, 3)
    if k % 4:
        candidates["k may be negative or 4 and more: only k % 4 matters"] = x
    return layout_hint(candidates, generic="only k % 4 matters (k may be negative or 4 and "
                                           "more); an odd k swaps H and W")


# -- random crops and noise ---------------------------------------------------------------------

def _offsets(seed: int, device: str, n: int, high: int, shape: tuple[int, ...]) -> torch.Tensor:
    gen = torch.Generator(device=device).manual_seed(seed)
    return torch.randint(0, high, shape, generator=gen, device=device).cpu()


def crop_with(x: torch.Tensor, size: int, padding: int, rows: torch.Tensor,
              cols: torch.Tensor) -> torch.Tensor:
    """Crops of ``x`` padded by ``padding``; ``rows``/``cols`` are ``[N]`` or ``[N, C]``
    top-left corners."""
    n, c = x.shape[:2]
    span = torch.arange(size)
    r = (rows.reshape(n, -1).expand(n, c)[..., None] + span)[..., :, None]
    q = (cols.reshape(n, -1).expand(n, c)[..., None] + span)[..., None, :]
    return F.pad(x, [padding] * 4)[torch.arange(n).view(n, 1, 1, 1),
                                   torch.arange(c).view(1, c, 1, 1), r, q]


def random_crop_reference(seed: int, device: str = "cpu") -> Callable[..., torch.Tensor]:
    """random_crop with the offsets drawn as the docstring draws them, on the student's
    device (a CUDA generator draws other numbers than a CPU one), cropped in float64."""

    def ref(x: torch.Tensor, size: int, padding: int, gen: Any = None) -> torch.Tensor:
        n, _, h, _ = x.shape
        offsets = _offsets(seed, device, n, h + 2 * padding - size + 1, (n, 2))
        return crop_with(x, size, padding, offsets[:, 0], offsets[:, 1])

    return ref


def crop_hint(x: torch.Tensor, size: int, padding: int, seed: int, device: str = "cpu"):
    n, c, h, _ = x.shape
    high = h + 2 * padding - size + 1
    pairs = _offsets(seed, device, n, high, (n, 2))
    per_channel = _offsets(seed, device, n, high, (n, c, 2))
    separate = _offsets(seed, device, n, high, (2 * n,))
    candidates = {
        "offsets[n] is (row, column): the first column of the (N, 2) draw moves the window "
        "down, the second moves it right": crop_with(x, size, padding, pairs[:, 1], pairs[:, 0]),
        "draw one offset per image, shared by all its channels: torch.randint(..., (N, 2), "
        "...)": crop_with(x, size, padding, per_channel[..., 0], per_channel[..., 1]),
        "draw all offsets in one call of shape (N, 2), not the rows and the columns apart":
            crop_with(x, size, padding, separate[:n], separate[n:]),
    }
    if padding:  # no padding at the top and left: the windows start inside the image
        candidates["pad H and W by `padding` zeros on each side first (F.pad), then crop the "
                   "padded image"] = crop_with(F.pad(x, [0, 2 * padding, 0, 2 * padding]),
                                               size, 0, pairs[:, 0], pairs[:, 1])
    return layout_hint(candidates)


def gaussian_noise_reference(seed: int, dtype: torch.dtype, device: str = "cpu"):
    """gaussian_noise with the noise drawn as the docstring draws it (the student's dtype and
    device), added in float64."""

    def ref(x: torch.Tensor, std: float, gen: Any = None) -> torch.Tensor:
        g = torch.Generator(device=device).manual_seed(seed)
        noise = torch.randn(x.shape, generator=g, dtype=dtype, device=device).cpu()
        return x + std * noise.to(x.dtype)

    return ref


def noise_hint(x: torch.Tensor, std: float, seed: int, dtype: torch.dtype, device: str = "cpu"):
    g = torch.Generator(device=device).manual_seed(seed)
    noise = torch.randn(x.shape, generator=g, dtype=dtype, device=device).cpu().double()
    g32 = torch.Generator(device=device).manual_seed(seed)
    noise32 = torch.randn(x.shape, generator=g32, device=device).cpu().double()
    x64 = x.double()
    return layout_hint({
        "std is the standard deviation: multiply the noise by std, not by std ** 2":
            x64 + std ** 2 * noise,
        "draw the noise in x's dtype (dtype=x.dtype): a float32 draw holds other numbers":
            x64 + std * noise32,
        "add the noise to x: return x + std * noise": std * noise,
    }, generic="draw the noise with torch.randn(x.shape, generator=generator, dtype=x.dtype, "
               "device=x.device), once")


# -- early stopping -----------------------------------------------------------------------------

def _early_stop(losses: Sequence[float], patience: int, min_delta: float, *,
                late: int = 0, ties: bool = False, sign: float = -1.0) -> tuple[int, int]:
    """Early stopping, with the knobs of the mistakes students make: ``late`` stops that many
    epochs later, ``ties`` counts an equal loss as an improvement, ``sign=+1`` adds
    ``min_delta`` instead of subtracting it."""
    best, since = 0, 0
    for i in range(1, len(losses)):
        bar = losses[best] + sign * min_delta
        better = losses[i] <= bar if ties else losses[i] < bar
        since = 0 if better else since + 1
        if better:
            best = i
        elif since >= patience + late:
            return i, best
    return len(losses) - 1, best


def early_stop(val_losses: Sequence[float], patience: int,
               min_delta: float = 0.0) -> tuple[int, int]:
    return _early_stop(val_losses, patience, min_delta)


def check_early_stop(student: Student, losses: Sequence[float], patience: int,
                     min_delta: float = 0.0) -> None:
    """The student's ``early_stop`` equals the reference exactly, with a hint that names the
    mistake whose answer it gave."""
    losses = [float(v) for v in losses]
    want = early_stop(losses, patience, min_delta)
    got = student.call("early_stop", losses, patience, min_delta=min_delta).value
    label = f"early_stop(<{len(losses)} losses>, patience={patience}, min_delta={min_delta:g})"
    if not isinstance(got, tuple) or len(got) != 2 or \
            any(isinstance(v, bool) or not isinstance(v, int) for v in got):
        raise Mismatch("type", f"{label} returned {got!r}, expected a tuple of two Python ints "
                               "(stop_epoch, best_epoch)",
                       public_message=f"{label} returned a {type(got).__name__}, expected a "
                                      "tuple of two Python ints (stop_epoch, best_epoch)")
    if got == want:
        return
    variants = {
        "training stops AT the epoch that completes `patience` epochs without improvement, not "
        "one epoch later": _early_stop(losses, patience, min_delta, late=1),
        "training stops at the epoch that completes `patience` epochs without improvement, not "
        "one epoch earlier": _early_stop(losses, patience, min_delta, late=-1),
        "an improvement is a loss strictly below best - min_delta; an equal loss is none":
            _early_stop(losses, patience, min_delta, ties=True),
        "an improvement must beat the best loss by more than min_delta: loss < best - "
        "min_delta": _early_stop(losses, patience, 0.0),
        "subtract min_delta from the best loss (loss < best - min_delta), do not add it":
            _early_stop(losses, patience, min_delta, sign=1.0),
    }
    hint = next((text for text, answer in variants.items() if answer == got), None)
    what = "stop_epoch" if got[0] != want[0] else "best_epoch"
    raise Mismatch("values", f"{label} is {got}, expected {want} ({what} differs); losses "
                             f"{[round(v, 4) for v in losses]}",
                   public_message=f"{label}: {what} differs from the expected one").with_hint(hint)


# -- evaluate -----------------------------------------------------------------------------------

def probe_state(rng: torch.Generator, features: int, hidden: int, classes: int,
                dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """A random state for the harness's probe net (BatchNorm buffers far from 0 and 1)."""
    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=rng, dtype=torch.float64)

    state = {"1.weight": randn(hidden, features) / features ** 0.5, "1.bias": randn(hidden),
             "2.weight": randn(hidden).abs() + 0.5, "2.bias": randn(hidden) * 0.5,
             "2.running_mean": randn(hidden), "2.running_var": randn(hidden).abs() + 0.5,
             "2.num_batches_tracked": torch.tensor(7),
             "5.weight": randn(classes, hidden) / hidden ** 0.5, "5.bias": randn(classes)}
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}


def evaluate_reference(state: dict[str, torch.Tensor], x: torch.Tensor,
                       y: torch.Tensor) -> tuple[float, float]:
    """The mean cross-entropy and accuracy of the probe net in eval mode, in float64."""
    s = {k: v.double() if v.is_floating_point() else v for k, v in state.items()}
    h = torch.nn.functional.batch_norm(x.double().flatten(1) @ s["1.weight"].T + s["1.bias"],
                                       s["2.running_mean"], s["2.running_var"], s["2.weight"],
                                       s["2.bias"], training=False)
    logits = h.relu() @ s["5.weight"].T + s["5.bias"]
    loss = F.cross_entropy(logits, y)
    return float(loss), float((logits.argmax(1) == y).double().mean())


EVAL_MODE_HINT = "call model.eval() before the loop (Dropout off, BatchNorm on running stats)"


def check_evaluate(student: Student, state: dict[str, torch.Tensor], x: torch.Tensor,
                   y: torch.Tensor, batch_size: int, *, training: bool) -> None:
    """Run the student's ``evaluate`` on the probe net through the harness and check, in
    order: no graph, eval mode, the batches, the mode restored, nothing changed, values."""
    facts = harness_call(student, "probe_evaluate", "evaluate", state, x, y, batch_size,
                         training)
    forwards = facts["forwards"]
    if not forwards:
        raise Mismatch("values", "evaluate never called the model")
    if any(f["grad"] for f in forwards):
        raise Mismatch("graph", "evaluate ran the model with gradients enabled, building a "
                                "graph it does not need; hint: wrap the loop in "
                                "torch.no_grad()")
    if any(f["training"] for f in forwards):
        raise Mismatch("mode", f"evaluate ran the model in train mode; hint: {EVAL_MODE_HINT}")
    rows = [f["rows"] for f in forwards]
    n = x.shape[0]
    want_rows = [min(batch_size, n - i) for i in range(0, n, batch_size)]
    if rows != want_rows:
        raise Mismatch("batches", f"evaluate ran the model on batches of {rows} rows, expected "
                                  f"{want_rows} ({n} rows in batches of {batch_size})",
                       public_message="evaluate did not take the data in batches of batch_size "
                                      "rows (the last one may be smaller)")
    if facts["mode_after"] != training:
        was = "train" if training else "eval"
        raise Mismatch("mode", f"evaluate left a model that was in {was} mode in "
                               f"{'eval' if training else 'train'} mode; hint: remember "
                               "was_training = model.training and call "
                               "model.train(was_training) at the end")
    assert_close(facts["state_after"], state, name="the model's state_dict after evaluate",
                 profile="exact", hint="evaluate must change no parameter and no buffer: "
                                       "eval mode and torch.no_grad()")
    value = facts["value"]
    if not isinstance(value, tuple) or len(value) != 2:
        raise Mismatch("type", f"evaluate returned {type(value).__name__}, expected a tuple "
                               "(mean_loss, accuracy)")
    for what, v in zip(("mean_loss", "accuracy"), value):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Mismatch("type", f"evaluate's {what} is a {type(v).__name__}, expected a "
                                   "Python float; hint: .item() or float(...)")
    _check_eval_values(value, evaluate_reference(state, x, y), x.dtype, n)


def _check_eval_values(got: tuple[float, float], want: tuple[float, float],
                       dtype: torch.dtype, n: int) -> None:
    rtol = 1e-4 if dtype == torch.float32 else 1e-9
    loss, acc = float(got[0]), float(got[1])
    if not math.isclose(loss, want[0], rel_tol=rtol, abs_tol=rtol):
        raise Mismatch("values", f"evaluate's mean_loss is {loss:.6g}, expected {want[0]:.6g}; "
                                 "hint: the mean is over all samples: sum the losses "
                                 "(reduction='sum') and divide by N, not a mean of batch means",
                       public_message="evaluate's mean_loss differs from the expected one; "
                                      "hint: the mean is over all samples, not a mean of batch "
                                      "means", details={"got": loss, "expected": want[0]})
    if abs(acc - want[1]) > (1.5 / n if dtype == torch.float32 else 1e-12):
        raise Mismatch("values", f"evaluate's accuracy is {acc:.6g}, expected {want[1]:.6g}; "
                                 "hint: the fraction of all N rows whose argmax is the target",
                       public_message="evaluate's accuracy differs from the expected one",
                       details={"got": acc, "expected": want[1]})


# -- train_classifier ---------------------------------------------------------------------------

FULL_AT, HALF_AT = 0.95, 0.90
TIERS = ((FULL_AT, 1.0), (HALF_AT, 0.5))


def load_digits(path: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A split of the 8x8 digits: float32 images ``[N, 1, 8, 8]`` in [0, 1], int64 labels."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the digits' {split} split is missing; regenerate "
                                "it with reference_tests/hw6/hidden/data/make_digits.py")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        images, labels = f.get_tensor("images"), f.get_tensor("labels")
    rows = json.loads(meta.get("indices", "[]"))
    if meta.get("split") != split or len(rows) != labels.shape[0] or \
            images.shape[1:] != (1, 8, 8) or images.dtype != torch.uint8:
        raise ValueError(f"{path}: not the digits' {split} split (metadata {meta.get('split')!r},"
                         f" images {tuple(images.shape)} {images.dtype})")
    return images.to(torch.float32) / 16, labels.to(torch.int64)


def train_and_predict(student: Student, x_train: torch.Tensor, y_train: torch.Tensor,
                      x_eval: torch.Tensor, seed: int) -> tuple[torch.Tensor, float]:
    """Train in the executor (the model stays there), then fetch the model's logits on
    ``x_eval`` in a second request. Returns the logits and the training time (judge clock)."""
    started = time.perf_counter()
    kept = student.call("train_classifier", x_train, y_train, generator(seed), keep=True).value
    seconds = time.perf_counter() - started
    try:
        logits = student.harness("predict", kept, x_eval).value
    except StudentException as err:
        raise StudentException(
            f"the model train_classifier returned failed on [{x_eval.shape[0]}, 1, 8, 8] "
            f"inputs: {err.message}",
            public_message=f"the model train_classifier returned failed on [M, 1, 8, 8] "
                           f"inputs: {err.public_message}") from None
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise Mismatch("type", f"the model's forward returned {type(logits).__name__}, "
                               "expected a float tensor of logits")
    if tuple(logits.shape) != (x_eval.shape[0], 10):
        raise Mismatch("shape", f"the model's logits have shape {tuple(logits.shape)} for "
                                f"{x_eval.shape[0]} images, expected ({x_eval.shape[0]}, 10)")
    if not bool(torch.isfinite(logits).all()):
        raise Mismatch("values", "the model's logits hold nan or inf; hint: a smaller learning "
                                 "rate")
    return logits, seconds


def award_accuracy(student: Student, logits: torch.Tensor, y: torch.Tensor, seconds: float,
                   what: str) -> None:
    """Points by the accuracy reached (full at FULL_AT, half at HALF_AT), with a message that
    says the accuracy and the training time (no test input)."""
    accuracy = float((logits.argmax(dim=1) == y).double().mean())
    credit = tiered(accuracy, TIERS)
    verdict = {1.0: "full points", 0.5: "half points"}.get(credit, "no points")
    limit = student.request_timeout_s
    message = (f"accuracy {accuracy:.4f} on the {y.shape[0]} images of {what}: {verdict} "
               f"(full at >= {FULL_AT:g}, half at >= {HALF_AT:g}); training took "
               f"{seconds:.1f} s of the {limit:g} s allowed")
    if credit < 1.0:
        message += "; hint: train longer, a CNN, a learning rate near 0.05 with momentum 0.9"
    student.award(credit, message, accuracy=round(accuracy, 6), train_s=round(seconds, 3),
                  images=int(y.shape[0]))
