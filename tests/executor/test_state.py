"""grader.executor.state: before every request the executor pins the global torch state a
submission may have changed in an earlier one (default dtype and device, grad mode, threads,
seeds, deterministic mode, reduced-precision float32 math, anomaly detection), so no test's
verdict depends on what ran before it. Run in this process; the state is put back after."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
import torch.nn.functional as F

from grader.executor.state import reset_state

_NODES = ("", "cuda.matmul", "cudnn", "cudnn.conv", "cudnn.rnn", "mkldnn", "mkldnn.matmul",
          "mkldnn.conv", "mkldnn.rnn")


def _node(path: str) -> object:
    node: object = torch.backends
    for name in filter(None, path.split(".")):
        node = getattr(node, name)
    return node


def _precisions() -> dict[str, str]:
    """The ``fp32_precision`` of every backend and op (torch >= 2.9), read with the new API
    (reading the legacy flags raises once a submission has mixed the two)."""
    return {path: _node(path).fp32_precision for path in _NODES
            if hasattr(_node(path), "fp32_precision")}


@pytest.fixture(autouse=True)
def _put_the_state_back() -> Iterator[None]:
    """What these tests change, restored for the tests that run after them in this process."""
    saved = (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads(),
             torch.get_rng_state(), torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
             torch.is_anomaly_enabled(), _precisions())
    yield
    (dtype, grad, threads, rng, deterministic, warn_only, cudnn_deterministic, benchmark,
     anomaly, precisions) = saved
    torch.set_default_dtype(dtype)
    torch.set_default_device(None)
    torch.set_grad_enabled(grad)
    torch.set_num_threads(threads)
    torch.set_rng_state(rng)
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = (cudnn_deterministic,
                                                                          benchmark)
    torch.autograd.set_detect_anomaly(anomaly)
    for path, value in precisions.items():
        _node(path).fp32_precision = value


def _default_device_meta() -> None:
    torch.set_default_device("meta")


def _reduced_precision_everywhere() -> None:
    """What tests/submissions/hostile/torch_state.py does, and bf16 for oneDNN's CPU kernels."""
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    for path in _precisions():
        _node(path).fp32_precision = "bf16" if path.startswith("mkldnn") else "tf32"
    torch.set_float32_matmul_precision("medium")


# what a submission does -> what must hold after reset_state(seed=7, threads=1, device="cpu")
CHANGES: dict[str, tuple[Callable[[], object], Callable[[], bool]]] = {
    "default dtype": (lambda: torch.set_default_dtype(torch.float64),
                      lambda: torch.get_default_dtype() == torch.float32),
    "default device": (_default_device_meta, lambda: torch.empty(1).device.type == "cpu"),
    "grad mode": (lambda: torch.set_grad_enabled(False), torch.is_grad_enabled),
    "threads": (lambda: torch.set_num_threads(2), lambda: torch.get_num_threads() == 1),
    "deterministic mode": (lambda: torch.use_deterministic_algorithms(False),
                           lambda: torch.are_deterministic_algorithms_enabled()
                           and torch.is_deterministic_algorithms_warn_only_enabled()),
    "cudnn benchmark": (lambda: setattr(torch.backends.cudnn, "benchmark", True),
                        lambda: torch.backends.cudnn.benchmark is False),
    "cudnn deterministic": (lambda: setattr(torch.backends.cudnn, "deterministic", False),
                            lambda: torch.backends.cudnn.deterministic is True),
    "anomaly detection": (lambda: torch.autograd.set_detect_anomaly(True),
                          lambda: not torch.is_anomaly_enabled()),
    "matmul precision": (lambda: torch.set_float32_matmul_precision("medium"),
                         lambda: torch.get_float32_matmul_precision() == "highest"),
    "reduced precision": (_reduced_precision_everywhere, lambda: _full_precision()),
}


def _full_precision() -> bool:
    """No TF32 or bf16 for float32 by either API (the legacy flags read again once the reset
    has left the two APIs agreeing)."""
    return (not {"tf32", "bf16"} & set(_precisions().values())
            and torch.backends.cuda.matmul.allow_tf32 is False
            and torch.backends.cudnn.allow_tf32 is False
            and torch.get_float32_matmul_precision() == "highest")


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_reset_undoes_what_a_submission_changed(change):
    tamper, holds = CHANGES[change]
    tamper()
    reset_state(seed=7, threads=1, device="cpu")
    assert holds(), change


def test_reset_undoes_every_change_at_once():
    for tamper, _ in CHANGES.values():
        tamper()
    reset_state(seed=7, threads=1, device="cpu")
    failed = [name for name, (_, holds) in CHANGES.items() if not holds()]
    assert failed == []


def test_the_seed_fixes_the_draws_whatever_was_drawn_before():
    reset_state(seed=7, threads=1, device="cpu")
    first = torch.rand(4)
    torch.manual_seed(999)
    torch.rand(100)
    reset_state(seed=7, threads=1, device="cpu")
    assert torch.equal(torch.rand(4), first)
    assert torch.equal(first, torch.rand(4, generator=torch.Generator().manual_seed(7)))
    reset_state(seed=8, threads=1, device="cpu")
    assert not torch.equal(torch.rand(4), first)


def test_threads_follow_the_setting():
    reset_state(seed=0, threads=2, device="cpu")
    assert torch.get_num_threads() == 2
    reset_state(seed=0, threads=1, device="cpu")
    assert torch.get_num_threads() == 1


def test_a_float32_convolution_is_full_precision_again_after_a_bf16_submission():
    """oneDNN runs float32 convolutions in bfloat16 where the CPU has it (AMX, AVX-512 BF16)
    once ``torch.backends.mkldnn.conv.fp32_precision = "bf16"``: an error near 1e-1 instead
    of 1e-5, for every later test of that submission, unless the reset undoes it. (Where the
    CPU has no bfloat16, both errors are small: the flags' test above still holds.)"""
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(4, 16, 24, 24, generator=gen), torch.randn(32, 16, 3, 3, generator=gen)
    exact = F.conv2d(x.double(), w.double())
    reset_state(seed=0, threads=1, device="cpu")
    full = (F.conv2d(x, w).double() - exact).abs().max().item()
    _reduced_precision_everywhere()
    reset_state(seed=0, threads=1, device="cpu")
    after = (F.conv2d(x, w).double() - exact).abs().max().item()
    assert after <= 2 * full + 1e-6, f"error {after:.2g} after the reset, {full:.2g} before"
