"""The public surface of ``grader`` is pinned: ``__all__`` is exactly the sorted public names
(httpx's rule), and each resolves to what it names, before and after every submodule is
imported (a submodule must not shadow a public name)."""

from __future__ import annotations

import subprocess
import sys
import types

SCRIPT = """
import importlib, pkgutil, types
import grader

def public():
    names = {n for n in dir(grader) if not n.startswith("_")
             and not isinstance(getattr(grader, n), types.ModuleType)}
    return sorted(names | {"__version__"})

before = public()
assert grader.__all__ == before, (grader.__all__, before)
for name in grader.__all__:
    value = getattr(grader, name)
    assert not isinstance(value, types.ModuleType), name
for info in pkgutil.walk_packages(grader.__path__, "grader."):
    if info.name not in ("grader.__main__", "grader.executor.template"):
        importlib.import_module(info.name)
for name in grader.__all__:
    assert not isinstance(getattr(grader, name), types.ModuleType), f"{name} is shadowed"
assert public() == before, (public(), before)
print("ok", grader.__all__)
"""


def test_all_is_the_sorted_public_surface_and_each_name_resolves():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok")


def test_the_public_functions_are_the_libraries():
    import grader
    from grader.api import check_submission
    from grader.integrations.notebook import check
    from grader.verify import verify_course

    assert grader.check_submission is check_submission and grader.check is check
    assert grader.verify_course is verify_course
    assert isinstance(grader.__version__, str) and not isinstance(grader, types.FunctionType)
