# Case: read_hidden (security notes 5.5, attack A7). Needs the namespace level.
# Tries to read the course's hidden material and other students' work: the course root
# (@@COURSE@@ is replaced by the test), its reference_tests/, solutions/ and course.toml, the
# other submissions' folder (@@OTHERS@@), /root, /home, and lists what it could see. Each
# function raises an exception whose message carries whatever it read.
# Must hold (namespace): nothing is readable: every path gives "missing"; no message contains
# the solution's source; every test fails.
import os

import torch


def sigmoid_grad(x):
    return torch.zeros_like(x)


def tanh_grad(x):
    return torch.zeros_like(x)


def relu_grad(x):
    return torch.zeros_like(x)


def softmax(a, dim=-1):
    return torch.zeros_like(a)


def softmax_jacobian(a):
    return torch.zeros(*a.shape, a.shape[-1], dtype=a.dtype)


def softmax_backward(p, grad_p):
    return torch.zeros_like(p)


def linear_mse_grad(x, y, w, b):
    return torch.zeros_like(w), torch.zeros_like(b)


def cross_entropy(logits, target):
    return logits.sum() * 0


def cross_entropy_grad(logits, target):
    return torch.zeros_like(logits)

COURSE = "@@COURSE@@"
OTHERS = "@@OTHERS@@"


def _probe():
    seen = []
    paths = [COURSE, os.path.join(COURSE, "course.toml"),
             os.path.join(COURSE, "solutions", "hw2", "gradients.py"),
             os.path.join(COURSE, "reference_tests", "hw2", "conftest.py"),
             os.path.join(COURSE, "reference_tests", "hw2", "hw2_refs.py"),
             os.path.join(COURSE, "reference_tests"), OTHERS, "/root", "/home", "/work"]
    for path in paths:
        try:
            if os.path.isdir(path):
                seen.append(f"{path}: LISTED {sorted(os.listdir(path))[:20]}")
            else:
                with open(path) as f:
                    seen.append(f"{path}: READ {f.read(4000)!r}")
        except OSError as err:
            seen.append(f"{path}: missing ({type(err).__name__})")
    return "; ".join(seen)


def sigmoid_grad(x):  # noqa: F811
    raise RuntimeError(_probe())


def softmax(a, dim=-1):  # noqa: F811
    raise RuntimeError(_probe())
