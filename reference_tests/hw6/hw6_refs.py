"""Torch-built references and checks for hw6's modules and augmentations, and the helpers
every hw6 test shares (public: they use PyTorch only, never the solutions)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grader.judge.checks import check_module
from grader.judge.compare import Mismatch
from grader.errors import MissingName, NotImplementedByStudent, StudentException
from grader.judge.proxy import Student


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
