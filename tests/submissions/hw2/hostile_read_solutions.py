# hostile: looks for solutions/ and reference_tests/ on the filesystem and delegates to them
"""Tries to import the reference solution or read the tests; every function uses what it found.

If the sandbox hides the course, every function raises, so no part can pass.
"""

import importlib.util
import os
import sys
import time

FOUND = {}
SEEN = []


def _search():
    for name in ("solutions", "reference_tests", "gradients_reference"):
        try:
            __import__(name)
            SEEN.append(f"imported {name}")
        except Exception:
            pass
    roots = ["/", os.getcwd(), os.path.expanduser("~")]
    roots += [p for p in sys.path if p]
    stop = time.monotonic() + 3.0
    for root in roots:
        for folder, dirs, files in os.walk(root):
            if time.monotonic() > stop:
                return
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "site-packages",
                                                    "dist-packages", ".git", ".venv")]
            base = os.path.basename(folder)
            if base == "hw2" and "gradients.py" in files and "solutions" in folder:
                FOUND["solution"] = os.path.join(folder, "gradients.py")
            if "reference_tests" in folder:
                for f in files:
                    try:
                        with open(os.path.join(folder, f)) as fh:
                            SEEN.append(fh.read(100))
                    except OSError:
                        pass
            if "solution" in FOUND:
                return


_search()
REF = None
if "solution" in FOUND:
    spec = importlib.util.spec_from_file_location("stolen", FOUND["solution"])
    REF = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(REF)


def _ref(name):
    if REF is None:
        raise RuntimeError(f"could not find the solutions (read {len(SEEN)} test files)")
    return getattr(REF, name)


def sigmoid_grad(x):
    return _ref("sigmoid_grad")(x)


def tanh_grad(x):
    return _ref("tanh_grad")(x)


def relu_grad(x):
    return _ref("relu_grad")(x)


def softmax(a, dim=-1):
    return _ref("softmax")(a, dim)


def softmax_jacobian(a):
    return _ref("softmax_jacobian")(a)


def softmax_backward(p, grad_p):
    return _ref("softmax_backward")(p, grad_p)


def linear_mse_grad(x, y, w, b):
    return _ref("linear_mse_grad")(x, y, w, b)


def cross_entropy(logits, target):
    return _ref("cross_entropy")(logits, target)


def cross_entropy_grad(logits, target):
    return _ref("cross_entropy_grad")(logits, target)
