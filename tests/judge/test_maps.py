"""grader.judge.maps: the bounded summary of where a tensor differs (pooling, slices, the
size cap, strict JSON) and how the comparison and the outcomes carry it."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.judge.compare import Mismatch, assert_close
from grader.judge.maps import (
    CAP,
    MAX_BYTES,
    MAX_CELLS,
    MAX_SIDE,
    MAX_SLICES,
    mismatch_map,
    ratios,
    without_values,
)
from grader.judge.outcomes import mismatch_details
from grader.judge.results import json_safe

PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


pytestmark = pytest.mark.usefixtures("one_thread")


def mismatch(actual, expected, **kwargs) -> Mismatch:
    with pytest.raises(Mismatch) as info:
        assert_close(actual, expected, name="f(...)", **kwargs)
    return info.value


def strict_json(value) -> str:
    return json.dumps(json_safe(value), allow_nan=False)


def test_a_small_matrix_keeps_its_mask_ratios_and_values():
    ratio = torch.zeros(3, 4, dtype=torch.float64)
    ratio[1, 2], ratio[2, 0] = 5.0, 0.5
    got, want = torch.arange(12.0).reshape(3, 4), torch.zeros(3, 4)
    m = mismatch_map(ratio, got, want)
    assert m["shape"] == [3, 4] and m["slices_total"] == 1
    (s,) = m["slices"]
    assert (s["rows"], s["cols"], s["pool"], s["mismatched"]) == (3, 4, [1, 1], 1)
    assert s["cells"][1][2] == 5.0 and s["cells"][2][0] == 0.5 and s["cells"][0][0] == 0.0
    assert s["got"][2] == [8.0, 9.0, 10.0, 11.0] and s["expected"][0] == [0.0] * 4
    assert "got" not in without_values(m)["slices"][0]


def test_a_vector_is_one_row_and_a_scalar_has_no_map():
    m = mismatch_map(torch.tensor([0.0, 2.0, 0.0]))
    assert (m["slices"][0]["rows"], m["slices"][0]["cols"]) == (1, 3)
    assert mismatch_map(torch.tensor(7.0)) is None and mismatch_map(torch.tensor([7.0])) is None


def test_3d_and_4d_results_get_one_map_per_leading_index_the_worst_few():
    ratio = torch.zeros(6, 5, 5)
    for i, count in ((1, 3), (4, 5), (5, 1)):
        ratio[i].view(-1)[:count] = 2.0
    m = mismatch_map(ratio)
    assert [s["index"] for s in m["slices"]] == [[1], [4], [5]]  # in index order
    four = torch.zeros(2, 3, 4, 4)
    four[:, :, 0, 0] = 3.0
    four[1, 2] = 9.0
    m = mismatch_map(four)
    assert m["slices_total"] == 6 and len(m["slices"]) == MAX_SLICES
    assert [1, 2] in [s["index"] for s in m["slices"]]


def test_rounding_up_keeps_the_threshold_of_one():
    ratio = torch.tensor([1.0, 1.0001, 0.999, 0.004, 123.4, math.inf, math.nan])
    cells = mismatch_map(ratio)["slices"][0]["cells"][0]
    assert cells[:4] == [1.0, 1.1, 1.0, 0.0]
    assert cells[4] == 130.0 and cells[5] == CAP and cells[6] == CAP


def test_ratios_cap_what_has_no_finite_ratio():
    err = torch.tensor([0.0, 1.0, 2.0, 0.0, math.nan])
    allowed = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
    bad = torch.tensor([False, True, True, True, True])  # the 4th: a non-finite reference
    assert ratios(err, allowed, bad).tolist() == [0.0, CAP, 2.0, CAP, CAP]


@PROPERTY
@given(h=st.integers(1, 300), w=st.integers(1, 300), seed=st.integers(0, 2**31))
def test_pooling_keeps_the_worst_ratio_and_the_mask_of_every_block(h, w, seed):
    gen = torch.Generator().manual_seed(seed)
    ratio = torch.rand(h, w, generator=gen, dtype=torch.float64) ** 4 * 3
    m = mismatch_map(ratio) if h * w >= 2 else None
    if m is None:
        return
    (s,) = m["slices"]
    ph, pw = s["pool"]
    assert s["rows"] <= MAX_SIDE and s["cols"] <= MAX_SIDE
    assert s["rows"] == math.ceil(h / ph) and s["cols"] == math.ceil(w / pw)
    # torch's own max pooling (ceil_mode: the last block may be partial) as the oracle
    worst = F.max_pool2d(ratio[None, None], (ph, pw), ceil_mode=True)[0, 0]
    cells = torch.tensor(s["cells"], dtype=torch.float64)
    assert cells.shape == worst.shape
    assert torch.equal(cells > 1, worst > 1)
    small = worst < 0.01
    assert bool((cells[small] == 0).all())
    assert bool(((worst <= cells) & (cells <= worst * 1.1 + 1e-12))[~small].all())
    assert s["mismatched"] == int((ratio > 1).sum())


shapes = st.lists(st.integers(1, 90), min_size=1, max_size=4).filter(
    lambda s: math.prod(s) >= 2 and math.prod(s) <= 600_000)


@PROPERTY
@given(shape=shapes, seed=st.integers(0, 2**31), wild=st.booleans())
def test_any_map_is_strict_json_under_its_caps(shape, seed, wild):
    gen = torch.Generator().manual_seed(seed)
    ratio = torch.rand(shape, generator=gen, dtype=torch.float64) * 10 ** (9 * wild)
    got = torch.randn(shape, generator=gen, dtype=torch.float64) * 1e300
    if wild:
        ratio.view(-1)[::7] = math.inf
        ratio.view(-1)[1::11] = math.nan
        got.view(-1)[::5] = math.nan
    m = mismatch_map(ratio, got, torch.zeros(shape, dtype=torch.float64))
    text = strict_json(m)
    assert len(text) <= MAX_BYTES
    assert len(m["slices"]) <= MAX_SLICES
    assert sum(s["rows"] * s["cols"] for s in m["slices"]) <= MAX_CELLS
    cells = [v for s in m["slices"] for row in s["cells"] for v in row]
    assert all(0.0 <= v <= CAP for v in cells)
    json.loads(text)  # and it reads back


def test_worst_case_map_stays_under_the_byte_cap():
    ratio = torch.full((4, 4, 256, 256), 987654.3, dtype=torch.float64)
    m = mismatch_map(ratio, ratio, ratio)
    assert sum(s["rows"] * s["cols"] for s in m["slices"]) == MAX_CELLS
    assert len(strict_json(m)) <= MAX_BYTES
    big = mismatch_map(torch.full((700, 700), 987654.3, dtype=torch.float64))
    assert big["slices"][0]["pool"] == [11, 11] and len(strict_json(big)) <= MAX_BYTES


def test_a_values_mismatch_carries_its_map():
    want = torch.zeros(4, 4, dtype=torch.float64)
    got = want.clone()
    got[0, 1] = 1.0
    m = mismatch(got, want)
    assert m.details["map"]["slices"][0]["cells"][0][1] == CAP  # atol 1e-7 from float64
    assert m.details["map"]["slices"][0]["got"][0][1] == 1.0


def test_a_nan_mismatch_carries_its_map_as_strict_json():
    want = torch.ones(3, dtype=torch.float64)
    got = torch.tensor([1.0, math.nan, 1.0], dtype=torch.float64)
    m = mismatch(got, want)
    s = m.details["map"]["slices"][0]
    assert s["cells"][0] == [0.0, CAP, 0.0]
    assert "NaN" in strict_json(m.details["map"])


def test_an_integer_mismatch_carries_its_map():
    m = mismatch(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 4]))
    assert m.details["map"]["slices"][0]["cells"][0] == [0.0, 0.0, CAP, 0.0]


def test_hidden_details_keep_the_map_without_values():
    want = torch.randn(3, 3, dtype=torch.float64)
    m = mismatch(want * 2, want)
    public = mismatch_details(m, hidden=False)
    hidden = mismatch_details(m, hidden=True)
    assert public["map"]["slices"][0]["got"] and public["diagnosis"]["kind"] == "factor"
    assert "got" not in hidden["map"]["slices"][0]
    assert "expected" not in hidden["map"]["slices"][0]
    assert hidden["map"]["slices"][0]["cells"] == public["map"]["slices"][0]["cells"]
    assert hidden["diagnosis"] == {"kind": "factor", "factor": 2.0}
    assert "got" not in hidden and "index" not in hidden
