"""Runtime state the executor pins before every request."""

from __future__ import annotations

import functools
from typing import Any

import torch

__all__ = ["reset_state"]


def reset_state(*, seed: int, threads: int, device: str) -> None:
    """Set every piece of global torch state a submission may have changed.

    The TF32 flags are written, never read: after a submission mixes the legacy and the
    ``fp32_precision`` APIs, reading the legacy flags raises.
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
    _fp32_precisions()
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



@functools.cache
def _precision_nodes() -> tuple[Any, ...]:
    """The backends and ops with an ``fp32_precision`` (torch >= 2.9; none before)."""
    nodes = []
    for path in ("", "cuda.matmul", "cudnn", "cudnn.conv", "cudnn.rnn", "mkldnn",
                 "mkldnn.matmul", "mkldnn.conv", "mkldnn.rnn"):
        node: Any = torch.backends
        for name in filter(None, path.split(".")):
            node = getattr(node, name, None)
        if node is not None and hasattr(node, "fp32_precision"):
            nodes.append(node)
    return tuple(nodes)


def _fp32_precisions() -> None:
    """Every ``fp32_precision`` back to "none", before the legacy flags are written: no
    legacy flag undoes ``torch.backends.mkldnn.conv.fp32_precision = "bf16"`` (float32
    convolutions in bfloat16 on a CPU with AMX) or a TF32 ``torch.backends.cudnn`` parent."""
    for node in _precision_nodes():
        node.fp32_precision = "none"
