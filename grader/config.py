"""Settings, resolved once into a frozen record.

Precedence, highest first: explicit arguments (the CLI's options), ``GRADE_*`` environment
variables, the homework's ``[hw.ID.settings]``, the course's ``[settings]``, the defaults below.
No other module reads the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from grader.errors import ConfigError, UsageError

__all__ = ["Settings", "resolve_settings"]


@dataclass(frozen=True)
class Settings:
    """Every knob of a grading run."""

    device: str = "cpu"
    """Where the student's code runs: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""
    isolation: str = "auto"
    """``auto`` (the strongest available), ``namespace``, ``process`` or ``portable``."""
    request_timeout_s: float = 10.0
    """Wall-clock deadline of one request to the executor."""
    import_timeout_s: float = 10.0
    """Deadline for importing the submission."""
    test_timeout_s: float = 120.0
    """The judge's outer time limit per test (its own code included; ``grader.judge.timelimit``)."""
    memory_mb: int = 2048
    """Memory a submission may allocate above the executor's start-up size."""
    cpu_s: int = 600
    """CPU seconds for one executor's whole life."""
    fsize_mb: int = 16
    """Largest file (and captured output) an executor may write."""
    tmp_mb: int = 64
    """Size of the private /tmp at the namespace level."""
    nproc: int = 256
    """Processes and threads of the sandbox uid (only enforced when the grader runs as root)."""
    threads: int = 1
    """torch threads inside an executor, and in the judge while it grades."""
    gpu_memory_mb: int = 16384
    """GPU memory one executor may allocate (a CUDA out-of-memory beyond it fails the test)."""
    max_reply_mb: int = 64
    """Largest reply the judge reads from an executor."""
    sandbox_uid: int = 20000
    """First uid of the sandbox slots (used when the grader runs as root); 0 keeps executors
    at the grader's own uid, as when the grader does not run as root."""
    seed_salt: str = ""
    """Mixed into every test's seed; set it per term to vary hidden inputs."""

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb << 20

    def grading_key(self) -> str:
        """The settings that can change a grade, as a stable string for the suite version:
        all but the sandbox uid, with the device by kind (``cuda:1`` grades as ``cuda``)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sandbox_uid"}
        values["device"] = str(values["device"]).split(":", 1)[0]
        return repr(sorted(values.items()))


_ENV_PREFIX = "GRADE_"


def _coerce(name: str, value: Any, source: str) -> Any:
    target = type(getattr(Settings(), name))
    # int(True) is 1 and int(2.5) is 2: a TOML true or a fraction would pass as a number
    lossy = target is not bool and isinstance(value, bool) or \
        target is int and isinstance(value, float) and not value.is_integer()
    try:
        if target is bool:
            return str(value).lower() in ("1", "true", "yes")
        if lossy:
            raise TypeError(name)
        return target(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} from {source} must be a {target.__name__} "
                          f"(got {value!r})") from None


def resolve_settings(*layers: tuple[str, dict[str, Any]], overrides: dict[str, Any] | None = None,
                     environ: dict[str, str] | None = None) -> Settings:
    """Merge settings layers (lowest first), the environment, then explicit overrides."""
    names = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    env = os.environ if environ is None else environ
    env_layer = {k[len(_ENV_PREFIX):].lower(): v for k, v in env.items()
                 if k.startswith(_ENV_PREFIX) and k[len(_ENV_PREFIX):].lower() in names}
    for source, layer in (*layers, ("the environment (GRADE_*)", env_layer),
                          ("the command line", overrides or {})):
        for key, value in layer.items():
            if value is None:
                continue
            if key not in names:
                raise ConfigError(f"unknown setting {key!r} in {source}; "
                                  f"known settings: {', '.join(sorted(names))}")
            values[key] = _coerce(key, value, source)
    settings = replace(Settings(), **values)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    device = settings.device
    if not (device in ("cpu", "cuda", "mps") or
            (device.startswith("cuda:") and device[5:].isdigit())):
        raise UsageError(f"--device must be cpu, cuda, cuda:N or mps (got {device!r})")
    if settings.isolation not in ("auto", "namespace", "process", "portable"):
        raise UsageError(f"--isolation must be auto, namespace, process or portable "
                         f"(got {settings.isolation!r})")
    for name in ("request_timeout_s", "import_timeout_s", "memory_mb", "cpu_s", "threads"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"setting {name} must be positive (got {getattr(settings, name)!r})")
    for f in fields(settings):  # a negative size, count or uid means nothing (a byte cap < 0)
        value = getattr(settings, f.name)
        if isinstance(value, (int, float)) and value < 0:
            raise ConfigError(f"setting {f.name} must be >= 0 (got {value!r})")
