"""grader.forbidden: the AST scan of forbidden APIs in a submission's source."""

from __future__ import annotations

import textwrap

from grader.forbidden import scan_forbidden

AUTOGRAD = ["torch.autograd.*", "torch.Tensor.backward", "torch.func.*"]
SOFTMAX = ["torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax"]


def scan(source: str, **parts: list[str]) -> dict[str, list[str]]:
    return scan_forbidden(textwrap.dedent(source), parts)


def test_plain_attribute_call():
    src = """
    import torch
    def f(x):
        return torch.autograd.grad(x.sum(), x)
    def g(x):
        return x * 2
    """
    assert scan(src, f=AUTOGRAD, g=AUTOGRAD) == {"f": ["torch.autograd.grad"]}


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


def test_tensor_methods():
    src = """
    import torch
    def f(x):
        y = (x ** 2).sum()
        y.backward()
        return x.grad
    def s(a):
        return a.softmax(-1)
    """
    assert scan(src, f=AUTOGRAD, s=SOFTMAX) == {"f": ["Tensor.backward"], "s": ["Tensor.softmax"]}


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
        "norm": ["Tensor.norm", "torch.linalg.vector_norm"]}


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


def test_method_named_like_module_function_on_module_not_flagged():
    src = """
    import torch
    def f(x):
        return torch.sigmoid(x) * x.sum()
    """
    assert scan(src, f=AUTOGRAD + SOFTMAX) == {}


def test_parts_without_patterns_or_missing_are_skipped():
    src = """
    import torch
    def f(x):
        return torch.autograd.grad(x, x)
    """
    assert scan(src, f=[], g=AUTOGRAD) == {}


def test_syntax_error_yields_nothing():
    assert scan("def f(:\n  pass", f=AUTOGRAD) == {}
