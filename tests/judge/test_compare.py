"""grader.judge.compare: staged checks, tolerance profiles and the messages students read."""

from __future__ import annotations

import math

import pytest
import torch

from grader.judge.compare import Mismatch, assert_close, assert_same, tolerance
from grader.wire.values import Unsupported


def mismatch(actual, expected, **kwargs) -> Mismatch:
    kwargs.setdefault("name", "f(...)")
    with pytest.raises(Mismatch) as info:
        assert_close(actual, expected, **kwargs)
    return info.value


def test_equal_tensors_pass():
    x = torch.randn(3, 4, dtype=torch.float64)
    assert_close(x.clone(), x, name="x")


@pytest.mark.parametrize("actual, word", [(None, "None"), (3.0, "float"), ([1.0], "list"),
                                          (Unsupported("numpy.ndarray"), "numpy.ndarray")])
def test_type_stage(actual, word):
    m = mismatch(actual, torch.zeros(2))
    assert m.stage == "type"
    assert word in m.message and "expected a Tensor" in m.message


def test_subclass_fails_type_stage():
    x = torch.zeros(2)
    m = mismatch(x, x, meta=lambda t: {"type": "evil.AlwaysEqual", "device": "cpu"})
    assert m.stage == "type"
    assert "evil.AlwaysEqual" in m.message and "plain torch.Tensor" in m.message


def test_shape_stage():
    m = mismatch(torch.zeros(2, 3), torch.zeros(3, 2))
    assert m.stage == "shape"
    assert "(2, 3)" in m.message and "(3, 2)" in m.message


def test_dtype_stage_uses_requested_dtype():
    m = mismatch(torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64),
                 dtype=torch.float32)
    assert m.stage == "dtype"
    assert "float64" in m.message and "expected float32" in m.message


def test_device_stage():
    m = mismatch(torch.zeros(3), torch.zeros(3, dtype=torch.float64), dtype=torch.float32,
                 meta=lambda t: {"type": "torch.Tensor", "device": "cuda:0"}, device="cpu")
    assert m.stage == "device"
    assert "cuda:0" in m.message and "expected cpu" in m.message


def test_values_message_has_count_worst_error_index_and_bounds():
    want = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    got = want.clone()
    got[1, 2] += 0.5
    got[2, 0] += 0.1
    m = mismatch(got, want)
    assert m.stage == "values"
    text = m.message
    assert "2 of 12 elements" in text
    assert "worst absolute error 0.5" in text
    assert "at [1, 2]" in text
    assert "got 6.5, expected 6" in text
    assert "worst relative error" in text
    assert "allowed |got - expected| <=" in text
    assert m.details["mismatched"] == 2 and m.details["index"] == [1, 2]
    assert m.details["got"] == 6.5 and m.details["expected"] == 6.0


def test_public_message_leaves_out_values_and_index():
    want = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    got = want.clone()
    got[1, 2] += 0.5
    m = mismatch(got, want)
    public = m.public_message
    assert "1 of 12 elements" in public
    assert "[1, 2]" not in public and "6.5" not in public and "expected 6" not in public
    assert "worst absolute error 0.5" in public and "allowed" in public


@pytest.mark.parametrize("bad, word", [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "inf")])
def test_nonfinite_called_out(bad, word):
    want = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    got = want.clone()
    got[1] = bad
    m = mismatch(got, want)
    assert m.stage == "values"
    assert f"has {word} at [1]" in m.message and "where the reference is 2" in m.message
    assert m.details["nonfinite"] == 1
    assert word in m.public_message and "[1]" not in m.public_message


def test_nan_where_reference_is_nan_passes():
    x = torch.tensor([1.0, math.nan, math.inf], dtype=torch.float64)
    assert_close(x.clone(), x, name="x")


def test_elementwise_float32_bounds():
    tol = tolerance("elementwise", torch.float32)
    assert (tol.rtol, tol.atol) == (1.3e-6, 1e-5)
    want = torch.full((4,), 100.0, dtype=torch.float64)
    assert_close((want + 1e-4).float(), want, name="x", dtype=torch.float32)  # 1e-5 + 1.3e-4
    mismatch((want + 1e-3).float(), want, dtype=torch.float32)


def test_float64_is_stricter_than_float32():
    assert tolerance("elementwise", torch.float64).rtol < tolerance("elementwise",
                                                                    torch.float32).rtol


def test_accumulate_scales_atol_with_reference():
    ref = torch.tensor([1000.0, 0.0], dtype=torch.float64)
    tol = tolerance("accumulate", torch.float32, ref)
    assert tol.atol == pytest.approx(1e-5 * 1000)
    # an absolute error of 5e-3 on the zero entry is within the scaled atol of accumulate...
    got = torch.tensor([1000.0, 5e-3], dtype=torch.float32)
    assert_close(got, ref, name="x", profile="accumulate", dtype=torch.float32)
    # ...but not of elementwise
    assert mismatch(got, ref, profile="elementwise", dtype=torch.float32).stage == "values"


def test_loose_is_looser_than_accumulate():
    assert tolerance("loose", torch.float32).rtol > tolerance("accumulate", torch.float32).rtol


def test_exact_profile_and_integers():
    exact, integer = tolerance("exact", torch.float32), tolerance("elementwise", torch.int64)
    assert (exact.rtol, exact.atol) == (integer.rtol, integer.atol) == (0.0, 0.0)
    m = mismatch(torch.tensor([1, 2, 4]), torch.tensor([1, 2, 3]), profile="exact")
    assert m.stage == "values" and "1 of 3 elements" in m.message and "must be exact" in m.message
    assert "got 4, expected 3" in m.message and "got 4" not in m.public_message


def test_unknown_profile():
    with pytest.raises(ValueError, match="unknown tolerance profile"):
        tolerance("fuzzy", torch.float32)


def test_trees_name_each_item():
    want = (torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    m = mismatch((torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)),
                 want, name="linear_mse_grad(...)")
    assert "linear_mse_grad(...)[1]" in m.message
    m = mismatch([torch.zeros(2)], want)
    assert m.stage == "type" and "a list of 1" in m.message and "a tuple of 2" in m.message
    m = mismatch({"a": torch.zeros(1)}, {"b": torch.zeros(1)})
    assert m.stage == "type" and "keys" in m.message


def test_hint_appended_only_when_it_applies():
    want = torch.ones(3, dtype=torch.float64)
    m = mismatch(want * 2, want, hint="divide by N")
    assert m.message.endswith("; hint: divide by N") and "hint: divide by N" in m.public_message
    only_nan = lambda mm: "nan hint" if "nonfinite" in mm.details else None  # noqa: E731
    assert "hint" not in mismatch(want * 2, want, hint=only_nan).message
    assert "nan hint" in mismatch(want * math.nan, want, hint=only_nan).message


def test_assert_same_scalars():
    assert_same(0.25, 0.25, name="lr")
    with pytest.raises(Mismatch) as info:
        assert_same(0.3, 0.25, name="lr")
    assert info.value.stage == "values" and "lr is 0.3, expected 0.25" in info.value.message
    with pytest.raises(Mismatch) as info:
        assert_same(torch.tensor(0.25), 0.25, name="lr")
    assert info.value.stage == "type" and ".item()" in info.value.message
    with pytest.raises(Mismatch):
        assert_same(True, 1, name="flag")
    with pytest.raises(Mismatch):
        assert_same(3, 4, name="n", profile="exact")


@pytest.mark.parametrize("got", [0.0, -math.inf, math.nan, 1e308])
def test_an_infinite_reference_must_be_matched_exactly(got):
    want = torch.tensor([1.0, math.inf, 3.0], dtype=torch.float64)
    actual = want.clone()
    actual[1] = got
    for profile in ("elementwise", "accumulate", "loose", "exact"):
        m = mismatch(actual, want, profile=profile)
        assert m.stage == "values" and m.details["nonfinite_reference"] == 1
        assert "at [1] where the reference is inf" in m.message
        assert "must equal it" in m.message and "must equal it" in m.public_message
        assert "[1]" not in m.public_message
    assert_close(want.clone(), want, name="x", profile="accumulate")


def test_a_nan_reference_is_matched_by_nan_only_outside_the_exact_profile():
    want = torch.tensor([math.nan, 2.0], dtype=torch.float64)
    m = mismatch(torch.tensor([0.0, 2.0], dtype=torch.float64), want, profile="loose")
    assert "where the reference is nan" in m.message
    for profile in ("elementwise", "accumulate", "loose", "tight"):
        assert_close(want.clone(), want, name="x", profile=profile)
    m = mismatch(want.clone(), want, profile="exact")
    assert "nan never equals nan" in m.message


def test_a_float32_scalar_is_held_to_float32_bounds():
    x = torch.randn(10_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 5
    expected = x.var(unbiased=False).item()
    xf = x.float()
    got = ((xf ** 2).mean() - xf.mean() ** 2).item()  # a correct formula, in float32
    assert abs(got - expected) > 3 * (1e-7 + 1e-7 * abs(expected))  # beyond float64's bounds
    assert_close(got, expected, name="var", dtype=torch.float32)
    assert_same(got, expected, name="var", profile="elementwise", dtype=torch.float32)
    with pytest.raises(Mismatch):  # float64 inputs keep float64's bounds
        assert_close(got, expected, name="var", dtype=torch.float64)
    with pytest.raises(Mismatch):  # and float32's bounds still catch a wrong value
        assert_close(got * 1.001, expected, name="var", dtype=torch.float32)


def test_a_non_finite_scalar_reference_must_be_matched():
    assert_same(math.inf, math.inf, name="x", profile="elementwise")
    with pytest.raises(Mismatch):
        assert_same(1e300, math.inf, name="x", profile="elementwise")
    assert_same(math.nan, math.nan, name="x", profile="elementwise")
    with pytest.raises(Mismatch):
        assert_same(0.0, math.nan, name="x", profile="elementwise")
