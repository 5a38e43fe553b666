"""One submission being graded: its executor, its tests' outcomes, and what its tests need to
know about it (deadlines per part, forbidden lists, handles, awards)."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Any

import torch

from grader.config import Settings
from grader.course.forbidden import scan_forbidden
from grader.course.manifest import Homework
from grader.course.submission import Prepared
from grader.judge.results import TestResult
from grader.judge.scoring import Award
from grader.launch.executor import Executor

__all__ = ["SubmissionRun", "stub_signatures"]


class SubmissionRun:
    """One submission being graded: its executor and the outcomes of its tests."""

    def __init__(self, prepared: Prepared, homework: Homework, settings: Settings,
                 executor: Executor, signatures: dict[str, str]) -> None:
        self.prepared = prepared
        self.homework = homework
        self.settings = settings
        self.executor = executor
        self.signatures = signatures
        self.outcomes: dict[str, TestResult] = {}
        self.internal_errors: list[str] = []  # tracebacks of broken tests, for instructors
        self.started = time.perf_counter()
        # token -> (executor restarts when it was made, the name that made it): a handle dies
        # when the executor restarts; and test id -> its student.award verdict, until recorded
        self.handles: dict[str, tuple[int, str]] = {}
        self.awards: dict[str, Award] = {}
        self.part_timeouts = {p.name: p.request_timeout_s for p in homework.parts
                              if p.request_timeout_s is not None}
        patterns = {p.name: list(p.forbidden) for p in homework.parts}
        self.warnings = tuple(
            f"{part}: line {hit.line} names {hit.name}, which is forbidden in this part (the "
            "part scores 0 if the code runs it)"
            for part, hits in scan_forbidden(prepared.source, patterns).items() for hit in hits)

    def forbidden_patterns(self, part: str) -> tuple[str, ...]:
        return next((p.forbidden for p in self.homework.parts if p.name == part), ())

    def expected_signature(self, name: str) -> str | None:
        return self.signatures.get(name)

    def load_errors(self) -> list[dict[str, Any]]:
        return list(self.executor.start().get("errors", []))

    def request(self, header: dict[str, Any], tensors: dict[str, torch.Tensor], *,
                label: str, part: str = "") -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Send a request with the deadline of its part."""
        return self.executor.request(header, tensors, timeout_s=self.timeout_for(part),
                                     label=label)

    def timeout_for(self, part: str) -> float:
        """The deadline of a part's requests: its own ``request_timeout_s`` where the manifest
        sets one (a training run), else the run's."""
        return self.part_timeouts.get(part) or self.settings.request_timeout_s


def stub_signatures(path: Path) -> dict[str, str]:
    """The signatures of the stub's functions and classes (``(a, dim=-1)``), for messages."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = f"({ast.unparse(node.args)})"
        elif isinstance(node, ast.ClassDef):
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef)
                         and n.name == "__init__"), None)
            if init is not None:
                args = ast.unparse(init.args).split(", ", 1)
                out[node.name] = f"({args[1] if len(args) > 1 else ''})"
    return out
