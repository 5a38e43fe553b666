"""Runtime state the executor pins before every request, and the forbidden-API recorder."""

from __future__ import annotations

import fnmatch
import functools
import importlib
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["ForbiddenRecorder", "reset_state"]


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


def _resolve(name: str) -> Any:
    """The object a dotted name refers to, or None."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


class _Targets:
    """Forbidden names resolved to objects, module prefixes and classes."""

    def __init__(self, names: list[str]) -> None:
        self.by_id: dict[int, str] = {}
        self.prefixes: list[tuple[str, str]] = []
        self.classes: list[tuple[type, str]] = []
        for name in names:
            head, _, last = name.rpartition(".")
            if last == "*":
                self.prefixes.append((head, name))
                if head == "torch.optim":
                    self.classes.append((torch.optim.Optimizer, name))
                continue
            if "*" in last:
                owner = _resolve(head)
                matches = [a for a in dir(owner) if fnmatch.fnmatchcase(a, last)] if owner else []
                for attr in matches:
                    self._add(getattr(owner, attr), f"{head}.{attr}")
                continue
            obj = _resolve(name)
            if obj is not None:
                self._add(obj, name)

    def _add(self, obj: Any, name: str) -> None:
        if isinstance(obj, type):
            self.classes.append((obj, name))
        else:
            self.by_id[id(obj)] = name

    def match(self, func: Any) -> str | None:
        hit = self.by_id.get(id(func))
        if hit:
            return hit
        module = getattr(func, "__module__", None) or ""
        for prefix, _ in self.prefixes:
            if module == prefix or module.startswith(prefix + "."):
                return f"{module}.{getattr(func, '__name__', '?')}"
        return None


@functools.lru_cache(maxsize=64)
def _targets(names: tuple[str, ...]) -> _Targets:
    """Resolved targets, once per forbidden list (resolving imports costs milliseconds)."""
    return _Targets(list(names))


class ForbiddenRecorder(TorchFunctionMode):
    """Records calls of forbidden torch APIs while a student's code runs."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.targets = _targets(tuple(names))
        self.used: list[str] = []

    def __torch_function__(self, func: Any, types_: Any, args: Any = (), kwargs: Any = None) -> Any:
        hit = self.targets.match(func)
        if hit and hit not in self.used:
            self.used.append(hit)
        return func(*args, **(kwargs or {}))

    @contextmanager
    def active(self) -> Iterator[None]:
        """Record torch-function calls and constructions of forbidden classes."""
        saved: list[tuple[type, Any]] = []
        for cls, name in self.targets.classes:
            original = cls.__dict__.get("__init__", None)
            saved.append((cls, original))
            cls.__init__ = self._recording_init(cls, name)  # type: ignore[misc]
        try:
            with self:
                yield
        finally:
            for cls, original in saved:
                if original is None:
                    delattr(cls, "__init__")
                else:
                    cls.__init__ = original  # type: ignore[misc]

    def _recording_init(self, cls: type, name: str) -> types.FunctionType:
        parent_init = next(base.__dict__["__init__"] for base in cls.__mro__
                           if "__init__" in base.__dict__)
        recorder = self

        def __init__(obj: Any, *args: Any, **kwargs: Any) -> None:
            label = name if not name.endswith(".*") else f"{name[:-2]}.{type(obj).__name__}"
            if label not in recorder.used:
                recorder.used.append(label)
            parent_init(obj, *args, **kwargs)

        return __init__  # type: ignore[return-value]
