"""grader.course.forbidden: the source scan's early warnings of forbidden Python names.

The scan warns only; the executor's recorders decide (tests/executor/test_recorder.py). A warning needs a
name that the submission's imports resolve to a real torch object; a method name alone never
warns, since the receiver may be the student's own object.
"""

from __future__ import annotations

import textwrap

from grader.course.forbidden import SourceHit, scan_forbidden

AUTOGRAD = ["torch.autograd.*", "torch.Tensor.backward", "torch.func.*", "aten.*_backward*",
            "autograd.*"]
SOFTMAX = ["torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax",
           "aten.*softmax*"]


def scan(source: str, **parts: list[str]) -> dict[str, list[str]]:
    return {part: [hit.name for hit in hits]
            for part, hits in scan_forbidden(textwrap.dedent(source), parts).items()}


def test_plain_attribute_call_with_its_line():
    src = """
    import torch
    def f(x):
        return torch.autograd.grad(x.sum(), x)
    def g(x):
        return x * 2
    """
    found = scan_forbidden(textwrap.dedent(src), {"f": AUTOGRAD, "g": AUTOGRAD})
    assert found == {"f": [SourceHit("torch.autograd.grad", 4)]}


def test_module_alias():
    src = """
    import torch.nn.functional as F
    def softmax(a, dim=-1):
        return F.softmax(a, dim)
    """
    assert scan(src, softmax=SOFTMAX) == {"softmax": ["torch.nn.functional.softmax"]}


def test_from_import_and_renamed_import():
    src = """
    from torch.autograd import grad as g
    from torch import softmax
    def f(x):
        return g(x.sum(), x)
    def s(a):
        return softmax(a, -1)
    """
    assert scan(src, f=AUTOGRAD, s=SOFTMAX) == {"f": ["torch.autograd.grad"],
                                                "s": ["torch.softmax"]}


def test_import_inside_the_function():
    src = """
    def f(x):
        import torch.func as tf
        return tf.grad(lambda y: y.sum())(x)
    """
    assert scan(src, f=AUTOGRAD) == {"f": ["torch.func.grad"]}


def test_method_names_alone_never_warn():
    # The notes' layer-object style: methods named forward and backward, no autograd anywhere.
    src = """
    import torch
    class Layer:
        def forward(self, x):
            return torch.sigmoid(x)
        def backward(self, x, grad):
            return grad * x * (1 - x)
    def hidden_delta(o, delta_next, w_next):
        layer = Layer()
        return layer.backward(o, delta_next @ w_next.T)
    def s(a):
        return a.softmax(-1)
    """
    assert scan(src, hidden_delta=AUTOGRAD, s=SOFTMAX) == {}


def test_explicit_tensor_method_through_torch_warns():
    src = """
    import torch
    def s(a):
        return torch.Tensor.softmax(a, -1)
    """
    assert scan(src, s=SOFTMAX) == {"s": ["torch.Tensor.softmax"]}


def test_names_that_resolve_to_nothing_do_not_warn():
    src = """
    import torch
    def s(a):
        return torch.nn.functional.softmax_of_my_own(a)
    """
    assert scan(src, s=["torch.nn.functional.softmax*"]) == {}


def test_a_local_object_shadowing_no_import_does_not_warn():
    src = """
    class F:
        @staticmethod
        def softmax(a, dim):
            return a
    def s(a):
        return F.softmax(a, -1)
    """
    assert scan(src, s=SOFTMAX) == {}


def test_aten_and_autograd_patterns_are_ignored_by_the_scan():
    src = """
    import torch
    def f(x):
        return torch._softmax(x, -1, False)
    """
    assert scan(src, f=["aten._softmax", "autograd.*"]) == {}


def test_helpers_reached_transitively():
    src = """
    import torch
    def _inner(x):
        return torch.autograd.functional.jacobian(torch.sigmoid, x)
    def _middle(x):
        return _inner(x)
    def f(x):
        return _middle(x)
    def unrelated(x):
        return _inner(x)
    def clean(x):
        return x
    """
    found = scan(src, f=AUTOGRAD, clean=AUTOGRAD)
    assert found == {"f": ["torch.autograd.functional.jacobian"]}


def test_helper_assigned_at_top_level():
    src = """
    import torch
    helper = torch.autograd.grad
    def f(x):
        return helper(x.sum(), x)
    """
    assert scan(src, f=AUTOGRAD) == {"f": ["torch.autograd.grad"]}


def test_wildcards():
    src = """
    import torch.nn.functional as F
    import torch
    def pool(x):
        return F.max_pool2d(x, 2) + F.adaptive_avg_pool2d(x, 1)
    def norm(x):
        return torch.linalg.vector_norm(x) + x.norm()
    """
    found = scan(src, pool=["torch.nn.functional.*pool*"],
                 norm=["torch.linalg.*norm", "torch.Tensor.norm"])
    assert {k: sorted(v) for k, v in found.items()} == {
        "pool": ["torch.nn.functional.adaptive_avg_pool2d", "torch.nn.functional.max_pool2d"],
        "norm": ["torch.linalg.vector_norm"]}


def test_bare_module_reference_matches_wildcard():
    src = """
    import torch
    def f(x):
        ag = torch.autograd
        return ag.grad(x.sum(), x)
    """
    assert "torch.autograd" in scan(src, f=AUTOGRAD)["f"]


def test_grad_mode_context_managers_not_flagged():
    src = """
    import torch
    from torch.autograd import no_grad
    def f(x):
        with torch.no_grad():
            y = x * 2
        with torch.autograd.set_grad_enabled(False), torch.inference_mode():
            y = y + 1
        with no_grad(), torch.enable_grad():
            return y
    """
    assert scan(src, f=AUTOGRAD) == {}


def test_parts_without_patterns_or_missing_are_skipped():
    src = """
    import torch
    def f(x):
        return torch.autograd.grad(x, x)
    """
    assert scan(src, f=[], g=AUTOGRAD) == {}


def test_syntax_error_yields_nothing():
    assert scan("def f(:\n  pass", f=AUTOGRAD) == {}
