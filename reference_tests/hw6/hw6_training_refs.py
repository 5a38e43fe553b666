"""References and checks for hw6's training parts: early_stop, evaluate and the outcome-graded
train_classifier (public: they use PyTorch only, never the solutions)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open

from grader.judge.compare import Mismatch, assert_close
from grader.errors import StudentException
from grader.judge.proxy import Student, generator
from grader.judge.scoring import tiered
from hw6_refs import harness_call

TRAIN_FILE = Path(__file__).resolve().parents[2] / "assignments" / "hw6" / "data" / \
    "digits_train.safetensors"


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
                     min_delta: float | None = None) -> None:
    """The student's ``early_stop`` equals the reference exactly, with a hint that names the
    mistake whose answer it gave. Without ``min_delta`` the call leaves it out: the default
    (0) is part of the contract."""
    losses = [float(v) for v in losses]
    given = {} if min_delta is None else {"min_delta": min_delta}
    min_delta = 0.0 if min_delta is None else min_delta
    want = early_stop(losses, patience, min_delta)
    got = student.call("early_stop", losses, patience, **given).value
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
    n = len(x)
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
