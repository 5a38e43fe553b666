"""grader.judge.scoring: points split by weight, credit for awarded outcomes, a forbidden use
costs the whole part, and only totals are rounded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from grader.course.manifest import Homework, Part
from grader.judge import results
from grader.judge.scoring import score_tests, total

T = results.TestResult  # aliased: pytest would try to collect a class named Test*

HOMEWORK = Homework(id="hwx", title="x", file="x.py", root=Path("."),
                    parts=(Part("linear", 1.0), Part("softmax", 2.0)))
ORDER = [("a", "linear", "public", 1.0), ("b", "linear", "hidden", 1.0),
         ("c", "softmax", "public", 1.0), ("d", "softmax", "hidden", 3.0)]
FORBIDDEN = "linear: line 7 calls torch.nn.functional.linear, forbidden in this part"


def outcome(test_id, part, status, message="", visibility="public"):
    return T(test_id, part, visibility, 0.0, 0.0, status, message=message)


def test_points_are_split_by_weight_and_earned_by_passing_tests():
    scored = score_tests(HOMEWORK, ORDER, {
        "a": outcome("a", "linear", "passed"), "b": outcome("b", "linear", "failed"),
        "c": outcome("c", "softmax", "passed"), "d": outcome("d", "softmax", "passed")})
    assert [(t.points, t.max_points) for t in scored] == [(0.5, 0.5), (0.0, 0.5), (0.5, 0.5),
                                                          (1.5, 1.5)]
    assert total(scored) == (2.5, 3.0)


def test_a_forbidden_use_costs_every_test_of_the_part():
    # Test a saw the forbidden call; test b passed without it (a forbidden MyLinear used to
    # keep the points of such tests). Both score 0, marked forbidden with a's message.
    scored = score_tests(HOMEWORK, ORDER, {
        "a": outcome("a", "linear", "forbidden", FORBIDDEN),
        "b": outcome("b", "linear", "passed", visibility="hidden"),
        "c": outcome("c", "softmax", "passed"), "d": outcome("d", "softmax", "passed")})
    linear = [t for t in scored if t.part == "linear"]
    assert [(t.status, t.points, t.message) for t in linear] == [
        ("forbidden", 0.0, FORBIDDEN), ("forbidden", 0.0, FORBIDDEN)]
    assert linear[1].max_points == 0.5 and linear[1].stage == "forbidden"
    assert total(scored) == (2.0, 3.0)  # the other part keeps its points


def test_the_first_forbidden_message_in_collection_order_wins():
    scored = score_tests(HOMEWORK, ORDER, {
        "a": outcome("a", "linear", "failed"),
        "b": outcome("b", "linear", "forbidden", "second"),
        "c": outcome("c", "softmax", "forbidden", "first of softmax"),
        "d": outcome("d", "softmax", "forbidden", "later")})
    assert [t.message for t in scored] == ["second", "second", "first of softmax", "later"]
    assert all(t.status == "forbidden" for t in scored) and total(scored) == (0.0, 3.0)


def test_an_awarded_share_earns_its_credit_and_a_failure_without_one_nothing():
    scored = score_tests(HOMEWORK, ORDER, {
        "a": outcome("a", "linear", "passed"),
        "b": replace(outcome("b", "linear", "failed", "reached 0.91"), credit=0.5),
        "c": replace(outcome("c", "softmax", "failed"), credit=None),
        "d": replace(outcome("d", "softmax", "error"), credit=0.0)})
    assert [(t.points, t.max_points) for t in scored] == [(0.5, 0.5), (0.25, 0.5), (0.0, 0.5),
                                                          (0.0, 1.5)]
    assert scored[1].status == "failed" and scored[1].message == "reached 0.91"


def test_a_forbidden_use_also_takes_an_awarded_credit():
    scored = score_tests(HOMEWORK, ORDER, {
        "a": replace(outcome("a", "linear", "failed"), credit=0.5, details={"accuracy": 0.9}),
        "b": outcome("b", "linear", "forbidden", FORBIDDEN),
        "c": outcome("c", "softmax", "passed"), "d": outcome("d", "softmax", "passed")})
    awarded = scored[0]
    assert (awarded.status, awarded.points, awarded.credit, awarded.details, awarded.message) \
        == ("forbidden", 0.0, None, {}, FORBIDDEN)


def test_a_test_without_an_outcome_is_an_internal_error_worth_its_share():
    scored = score_tests(HOMEWORK, ORDER, {"a": outcome("a", "linear", "passed")})
    missing = scored[1]
    assert (missing.id, missing.part, missing.visibility, missing.status, missing.stage,
            missing.points, missing.max_points) == ("b", "linear", "hidden", "error", "internal",
                                                    0.0, 0.5)
    assert missing.message == "the test produced no result"
    assert total(scored) == (0.5, 3.0)


def test_a_part_of_weight_zero_or_unknown_to_the_manifest_is_worth_nothing():
    order = [("a", "linear", "public", 0.0), ("x", "extra", "public", 1.0),
             ("c", "softmax", "public", 1.0)]
    scored = score_tests(HOMEWORK, order, {t: outcome(t, p, "passed") for t, p, _, _ in order})
    assert [(t.points, t.max_points) for t in scored] == [(0.0, 0.0), (0.0, 0.0), (2.0, 2.0)]


def test_shares_are_exact_and_only_totals_are_rounded():
    """1 point over 3 tests: each share is 1/3 unrounded (the part sums to its points), and
    the total of two of them is 0.6667."""
    homework = Homework(id="hwx", title="x", file="x.py", root=Path("."),
                        parts=(Part("linear", 1.0),))
    order = [(t, "linear", "public", 1.0) for t in "abc"]
    scored = score_tests(homework, order, {
        "a": outcome("a", "linear", "passed"), "b": outcome("b", "linear", "passed"),
        "c": outcome("c", "linear", "failed")})
    assert [t.max_points for t in scored] == [1 / 3] * 3
    assert sum(t.max_points for t in scored) == pytest.approx(1.0, abs=1e-15)
    assert total(scored) == (0.6667, 1.0)
    sevenths = [T(str(i), "p", "public", 1 / 7, 1 / 7, "passed") for i in range(7)]
    assert total(sevenths) == (1.0, 1.0)


def test_the_order_of_collection_is_kept_and_each_test_keeps_its_fields():
    order = list(reversed(ORDER))
    outcomes = {t: replace(outcome(t, p, "passed", visibility=v), duration_s=0.25, stage="")
                for t, p, v, _ in order}
    scored = score_tests(HOMEWORK, order, outcomes)
    assert [t.id for t in scored] == ["d", "c", "b", "a"]
    assert all(replace(t, points=0.0, max_points=0.0) == outcomes[t.id] for t in scored)
