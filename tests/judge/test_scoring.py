"""grader.judge.scoring: points split by weight, and a forbidden use costs the whole part."""

from __future__ import annotations

from pathlib import Path

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
