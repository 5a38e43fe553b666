"""Runtime state the executor pins before every request."""

from __future__ import annotations

import torch

__all__ = ["reset_state"]


def reset_state(*, seed: int, threads: int, device: str) -> None:
    """Set every piece of global torch state a submission may have changed.

    TF32 goes through the legacy flags only, and they are written, never read: after a
    submission mixes the legacy and the ``fp32_precision`` APIs, reading the flags raises.
    """
    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.set_default_device(None)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    # The CPU generator directly: torch.manual_seed also queues lazy seeds for CUDA, XPU and
    # MTIA, formatting a stack trace for each (a third of a millisecond per request).
    torch.default_generator.manual_seed(seed)
    _deterministic()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.autograd.set_detect_anomaly(False)
    if device.startswith("cuda"):
        torch.cuda.manual_seed_all(seed)
        torch.cuda.empty_cache()  # give back what a failed request (an OOM) left cached
    elif device == "mps":
        torch.mps.manual_seed(seed)


def _deterministic() -> None:
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` without importing inductor
    (whose config the public function also sets), which would cost 1 s of start-up."""
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        setter(True, warn_only=True)
