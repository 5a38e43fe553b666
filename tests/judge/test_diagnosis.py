"""grader.judge.diagnosis: each common shape of a mismatch is named, random wrong values get
no name, and the comparison puts the diagnosis in the message ahead of the numbers."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from grader.judge.checks import _check_grads
from grader.judge.compare import Mismatch, assert_close
from grader.judge.diagnosis import KINDS, diagnose, diagnose_shape, public_diagnosis
from grader.judge.proxy import CallResult

F64 = {"rtol": 1e-7, "atol": 1e-7}
F32 = {"rtol": 1e-4, "atol": 1e-5}
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


pytestmark = pytest.mark.usefixtures("one_thread")


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def kind(got, want, tol=F64):
    found = diagnose(got, want, **tol)
    return found.kind if found else None


def test_a_constant_factor_is_named_with_its_value():
    want = randn(6, 3)
    found = diagnose(6 * want, want, **F64)
    assert found.kind == "factor" and found.details == {"factor": 6.0}
    assert "every element is 6.00 times the expected" in found.sentence
    assert "a factor 6 too many" in found.sentence
    half = diagnose(0.5 * want, want, **F64)
    assert "0.500 times" in half.sentence and "a factor 2 too few" in half.sentence
    assert diagnose(-3 * want, want, **F64).details == {"factor": -3.0}


def test_zeros_and_a_flipped_sign():
    want = randn(4, 5)
    assert kind(torch.zeros_like(want), want) == "zero"
    found = diagnose(-want, want, **F64)
    assert found.kind == "sign" and found.details["where"] == "all"
    partial = want.clone()
    partial[1, 2] *= -1
    partial[3, 0] *= -1
    found = diagnose(partial, want, **F64)
    assert found.kind == "sign" and found.details == {"where": "mismatched", "count": 2}


def test_transpose_permutation_and_layout():
    a = randn(4, 4)
    assert kind(a.T, a) == "transpose"
    batched = randn(3, 5, 5)
    assert kind(batched.transpose(-1, -2), batched) == "transpose"
    x = randn(2, 3, 3, 4)
    found = diagnose(x.permute(0, 2, 1, 3), x, **F64)
    assert found.kind == "permute" and found.details["dims"] == [0, 2, 1, 3]
    w = randn(6, 3)
    found = diagnose(w.T.reshape(6, 3), w, **F64)
    assert found.kind == "layout" and "reshape" in found.sentence


def test_shift_by_one_either_way():
    v = randn(10)
    found = diagnose(torch.cat([v[:1], v[:-1]]), v, **F64)
    assert found.kind == "shift" and found.details == {"dim": 0, "by": 1}
    m = randn(4, 7)
    found = diagnose(torch.cat([m[:, 1:], m[:, :1]], dim=1), m, **F64)
    assert found.kind == "shift" and found.details == {"dim": 1, "by": -1}


def test_right_values_in_another_order():
    v = randn(12)
    assert kind(v[torch.randperm(12, generator=torch.Generator().manual_seed(1))], v) == "order"
    rows = randn(3, 6)
    shuffled = torch.stack([r[torch.randperm(6, generator=torch.Generator().manual_seed(i))]
                            for i, r in enumerate(rows)])
    found = diagnose(shuffled, rows, **F64)
    assert found.kind == "order" and found.details == {"dim": -1}


def test_diagonal_and_off_diagonal():
    jac = randn(3, 5, 5)
    wrong = jac.clone()
    wrong[:, range(5), range(5)] += 1
    assert kind(wrong, jac) == "diagonal"
    off = jac + 1
    off[:, range(5), range(5)] = jac[:, range(5), range(5)]
    assert kind(off, jac) == "off_diagonal"


def test_border_of_width_one_or_two():
    x = randn(2, 3, 8, 8)
    one = x.clone()
    one[..., 0, :] = 0
    one[..., :, 0] = 0
    found = diagnose(one, x, **F64)
    assert found.kind == "border" and found.details == {"width": 1}
    two = x.clone()
    two[..., :2, :] += 1
    two[..., -2:, :] += 1
    two[..., :, :2] += 1
    two[..., :, -2:] += 1
    assert diagnose(two, x, **F64).details == {"width": 2}


def test_some_channels_or_rows():
    x = randn(2, 4, 5, 5)
    wrong = x.clone()
    wrong[:, 1] += randn(2, 5, 5, seed=3)
    wrong[:, 3] += randn(2, 5, 5, seed=4)
    found = diagnose(wrong, x, **F64)
    assert found.kind == "slices" and found.details == {"dim": 1, "which": [1, 3], "of": 4}
    assert "only channels 1, 3 (of 4) differ" in found.sentence
    m = randn(8, 6)
    rows = m.clone()
    rows[5] += 1
    found = diagnose(rows, m, **F64)
    assert "only row 5 (of 8) differs" in found.sentence


def test_a_single_wrong_element_has_no_structure():
    m = randn(6, 6)
    wrong = m.clone()
    wrong[2, 3] += 1
    assert kind(wrong, m) is None


def test_shapes_transposed_or_permuted():
    assert diagnose_shape((5, 3), (3, 5)).kind == "transpose"
    found = diagnose_shape((2, 4, 3), (2, 3, 4))
    assert found.kind == "permute" and found.details == {"dims": [0, 2, 1]}
    assert diagnose_shape((2, 3), (2, 4)) is None and diagnose_shape((6,), (6,)) is None


def test_plausible_wrong_formulas_get_no_false_name():
    x = randn(6, 7) * 3
    assert kind(1 - torch.tanh(x), 1 - torch.tanh(x) ** 2) is None
    assert kind(torch.softmax(x, 0), torch.softmax(x, 1)) is None
    assert kind(torch.sigmoid(x), torch.sigmoid(x) * (1 - torch.sigmoid(x))) is None


def test_public_diagnosis_keeps_kind_ratios_and_positions_only():
    assert public_diagnosis({"kind": "factor", "factor": 2.0, "got": 1.5}) == \
        {"kind": "factor", "factor": 2.0}
    assert public_diagnosis({"kind": "not a kind", "factor": 2.0}) == {}
    assert set(KINDS) >= {"factor", "sign", "transpose", "diagonal", "border"}


shapes = st.lists(st.integers(1, 7), min_size=1, max_size=4).filter(
    lambda s: math.prod(s) >= 3)


@PROPERTY
@given(shape=shapes, seed=st.integers(0, 2**31),
       factor=st.floats(-50, 50).filter(lambda c: min(abs(c - 1), abs(c + 1), abs(c)) > 1e-3),
       single=st.booleans())
def test_any_tensor_scaled_by_a_factor_is_that_factor(shape, seed, factor, single):
    want = randn(*shape, seed=seed)
    got, tol = factor * want, F64
    if single:  # a float32 result, judged at the accumulate profile
        got, tol = got.float().double(), F32
    found = diagnose(got, want, **tol)
    assert found is not None and found.kind == "factor"
    assert found.details["factor"] == pytest.approx(factor, rel=1e-5)


@PROPERTY
@given(n=st.integers(2, 9), batch=st.integers(0, 3), seed=st.integers(0, 2**31))
def test_any_transposed_matrix_is_the_transpose(n, batch, seed):
    want = randn(*([batch] if batch else []), n, n, seed=seed)
    assume(not torch.allclose(want, want.transpose(-1, -2)))
    assert kind(want.transpose(-1, -2), want) == "transpose"
    assert kind(-want, want) == "sign"


@PROPERTY
@given(shape=shapes, seed=st.integers(0, 2**31), scale=st.floats(0.05, 10))
def test_random_wrong_values_get_no_diagnosis(shape, seed, scale):
    want = randn(*shape, seed=seed)
    noise = randn(*shape, seed=seed + 1) * scale
    assume(bool((noise.abs() > 1e-3).all()))
    assert kind(want + noise, want) is None


@PROPERTY
@given(h=st.integers(5, 12), w=st.integers(5, 12), seed=st.integers(0, 2**31))
def test_a_few_random_wrong_elements_get_no_diagnosis(h, w, seed):
    want = randn(h, w, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    wrong = torch.randperm(h * w, generator=gen)[:3]
    got = want.clone()
    got.view(-1)[wrong] += randn(3, seed=seed + 1).abs() + 0.5
    assert kind(got, want) is None


def message_of(actual, expected, **kwargs) -> Mismatch:
    with pytest.raises(Mismatch) as info:
        assert_close(actual, expected, name="f(...)", **kwargs)
    return info.value


def test_the_message_names_the_diagnosis_before_the_numbers():
    want = randn(6, 3)
    m = message_of(6 * want, want, profile="accumulate")
    head, numbers = m.message.split("worst absolute error", 1)
    assert "every element is 6.00 times the expected" in head
    assert m.details["diagnosis"] == {"kind": "factor", "factor": 6.0}
    assert "6.00 times" in m.public_message and "got" not in m.public_message.split(";")[0]


def test_a_shape_mismatch_names_the_transpose():
    m = message_of(torch.zeros(5, 3), torch.zeros(3, 5))
    assert m.stage == "shape" and "the transpose of the expected shape" in m.message
    assert m.details["diagnosis"] == {"kind": "transpose"}


def test_a_gradient_mismatch_is_diagnosed_too():
    want = randn(4, 4)
    result = CallResult(value=None, grads={"args[0]": want.T.clone()})
    with pytest.raises(Mismatch) as info:
        _check_grads(result, {"args[0]": want}, {"args[0]": "w"}, "accumulate", None)
    assert info.value.stage == "gradients"
    assert "grad of w differs" in info.value.message
    assert "the transpose of the expected" in info.value.message
