"""Mutants as overlays (grader.course.mutants): a mutant replaces definitions of the solution
by name, and is refused when it holds anything else or names what the solution lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course.mutants import overlay, read_mutant
from grader.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = '''"""a solution"""

import torch


def _helper(x):
    return x * 2


def double(x):
    return _helper(x)


class Scale(torch.nn.Module):
    def forward(self, x):
        return 3 * x
'''


def _mutant(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bug.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_overlay_replaces_only_the_definitions_it_names(tmp_path: Path) -> None:
    path = _mutant(tmp_path, "# part: double\n# bug: a helper off by one\n\n\n"
                             "def _helper(x):\n    return x * 2 + 1\n")
    mutant = read_mutant(path, SOLUTION)
    assert (mutant.part, mutant.bug, list(mutant.definitions)) == \
        ("double", "a helper off by one", ["_helper"])
    text = overlay(SOLUTION, mutant)
    assert "return x * 2 + 1" in text and "return _helper(x)" in text
    assert "import torch" in text and "class Scale" in text
    namespace: dict = {}
    exec(compile(text, "overlaid", "exec"), namespace)
    assert namespace["double"](1) == 3


def test_several_definitions_and_a_class(tmp_path: Path) -> None:
    path = _mutant(tmp_path, "# part: Scale\n\n\nclass Scale(torch.nn.Module):\n"
                             "    def forward(self, x):\n        return 4 * x\n\n\n"
                             "def double(x):\n    return x\n")
    text = overlay(SOLUTION, read_mutant(path, SOLUTION))
    assert text.index("def _helper") < text.index("def double") < text.index("class Scale")
    assert "return 4 * x" in text and "return x\n" in text


@pytest.mark.parametrize(("body", "words"), [
    ("import math\n\n\ndef double(x):\n    return x\n", "only the definitions"),
    ("def double(x):\n    return x\n\n\nTABLE = [1, 2]\n", "only the definitions"),
    ("def triple(x):\n    return 3 * x\n", "defines triple, which the solution does not"),
    ('"""only a docstring"""\n', "replaces no definition"),
    ("def double(x:\n", "does not parse"),
])
def test_a_mutant_that_is_not_an_overlay_is_refused(tmp_path: Path, body: str,
                                                     words: str) -> None:
    path = _mutant(tmp_path, f"# part: double\n# bug: x\n\n\n{body}")
    with pytest.raises(ConfigError, match=words) as err:
        read_mutant(path, SOLUTION)
    assert str(path) in str(err.value)


def test_a_mutant_must_name_its_part(tmp_path: Path) -> None:
    path = _mutant(tmp_path, "def double(x):\n    return x\n")
    with pytest.raises(ConfigError, match="# part: NAME"):
        read_mutant(path, SOLUTION)


def test_every_mutant_of_the_course_is_an_overlay_of_its_solution() -> None:
    import tomllib

    manifest = tomllib.loads((ROOT / "course.toml").read_text(encoding="utf-8"))
    count = 0
    for hw_id, hw in manifest["hw"].items():
        solution = (ROOT / "solutions" / hw_id / hw["file"]).read_text(encoding="utf-8")
        for path in sorted((ROOT / "reference_tests" / hw_id / "mutants").glob("*.py")):
            mutant = read_mutant(path, solution)
            assert mutant.part in hw["parts"], path
            count += 1
    assert count >= 6 * 4
