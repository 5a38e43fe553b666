"""The judge's pytest plugin on a tiny fake course built with ``pytester``: markers, part
validation, the public/hidden split, redaction of hidden messages, points split by weight."""

from __future__ import annotations

import textwrap

import pytest
import torch  # noqa: F401 - imported before pytester snapshots sys.modules: torch cannot re-import

import grader.judge.runner  # noqa: F401 - likewise (pytest plugin, checks, compare)
from grader.api import check_submission
from grader.errors import ConfigError
from grader.reports.render import render

COURSE_TOML = """
[course]
name = "tiny"

[settings]
request_timeout_s = 10

[hw.hwx]
title = "tiny"
file = "mod.py"

[hw.hwx.parts]
double = { points = 2 }
triple = { points = 1, forbidden = ["torch.mul"] }
"""

STUB = '''
import torch


def double(x):
    """2 x."""
    raise NotImplementedError


def triple(x):
    """3 x."""
    raise NotImplementedError
'''

SOLUTION = '''
import torch


def double(x):
    return 2 * x


def triple(x):
    return 3 * x
'''

PUBLIC = '''
import pytest
import torch

from grader.judge.checks import check_function


@pytest.mark.part("double")
@pytest.mark.weight(3)
def test_double(student, rng):
    x = torch.randn(5, generator=rng, dtype=torch.float64)
    check_function(student, "double", lambda x: 2 * x, x)


@pytest.mark.part("triple")
def test_triple(student, rng):
    x = torch.randn(4, generator=rng, dtype=torch.float64)
    check_function(student, "triple", lambda x: 3 * x, x)
'''

HIDDEN = '''
import pytest
import torch

from grader.judge.checks import check_function


@pytest.mark.part("double")
def test_double_hidden(student, reference):
    x = torch.arange(6, dtype=torch.float64) - 2.5
    check_function(student, "double", reference.double, x)


@pytest.mark.part("triple")
def test_triple_assert(student):
    assert student.triple(torch.tensor([1.0])).item() == 3.0, "secret expected value 42"
'''

# Right on the public inputs, wrong on the hidden ones (x of 6 elements); triple is wrong.
TRICKY = '''
import torch


def double(x):
    return 2 * x if x.numel() != 6 else 2 * x + (x == 0.5)


def triple(x):
    return 3 * x + 1
'''


@pytest.fixture
def course(pytester: pytest.Pytester):
    root = pytester.path
    files = {"course.toml": COURSE_TOML, "assignments/hwx/mod.py": STUB,
             "solutions/hwx/mod.py": SOLUTION, "reference_tests/hwx/public/test_pub.py": PUBLIC,
             "reference_tests/hwx/hidden/test_hid.py": HIDDEN, "subs/tricky.py": TRICKY}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def by_name(result):
    return {t.id.rsplit("::", 1)[-1]: t for t in result.tests}


@pytest.mark.slow
def test_solution_full_marks_and_visibility(course):
    result = check_submission("hwx", course / "solutions/hwx", course=course).result
    assert result.full_marks and result.score == result.max_score == 3
    tests = by_name(result)
    assert tests["test_double"].visibility == "public"
    assert tests["test_double_hidden"].visibility == "hidden"
    assert {t.part for t in result.tests} == {"double", "triple"}


@pytest.mark.slow
def test_stub_not_implemented(course):
    result = check_submission("hwx", course=course).result
    assert result.score == 0 and not result.full_marks
    assert {p.name: p.status for p in result.parts()} == {"double": "not_implemented",
                                                          "triple": "not_implemented"}


@pytest.mark.slow
def test_points_split_by_weight_and_hidden_redacted(course):
    result = check_submission("hwx", course / "subs/tricky.py", course=course).result
    tests = by_name(result)
    # double: 2 points, public weight 3, hidden weight 1
    assert tests["test_double"].max_points == pytest.approx(1.5)
    assert tests["test_double"].points == pytest.approx(1.5)
    assert tests["test_double_hidden"].max_points == pytest.approx(0.5)
    assert tests["test_double_hidden"].points == 0
    assert result.score == pytest.approx(1.5) and result.max_score == pytest.approx(3)

    hidden = tests["test_double_hidden"]
    assert hidden.status == "failed" and hidden.stage == "values"
    assert "1 of 6 elements" in hidden.message
    assert "at [3]" not in hidden.message and "got 1" not in hidden.message
    assert "index" not in hidden.details and "got" not in hidden.details
    assert hidden.details["mismatched"] == 1

    public = tests["test_triple"]
    assert public.status == "failed"
    assert ": got " in public.message and ", expected " in public.message
    assert "index" in public.details

    asserted = tests["test_triple_assert"]
    assert asserted.status == "failed"
    assert "42" not in asserted.message and "secret" not in asserted.message
    assert asserted.message == "an assertion about the result failed"


@pytest.mark.slow
def test_a_forbidden_call_fails_the_whole_part_when_it_runs(course):
    sub = course / "subs/forbidden.py"
    sub.write_text(SOLUTION.replace("return 3 * x", "return torch.mul(x, 3)"))
    result = check_submission("hwx", sub, course=course).result
    parts = {p.name: p for p in result.parts()}
    assert parts["double"].status == "passed"
    assert parts["triple"].status == "forbidden" and parts["triple"].points == 0
    line = SOLUTION.splitlines().index("    return 3 * x") + 1
    assert parts["triple"].message.startswith(f"triple: line {line} calls torch.mul, forbidden")
    assert all(t.status == "forbidden" for t in result.tests if t.part == "triple")
    assert result.warnings == (f"triple: line {line} names torch.mul, which is forbidden in "
                               "this part (the part scores 0 if the code runs it)",)


@pytest.mark.slow
def test_a_forbidden_name_that_never_runs_only_warns(course):
    sub = course / "subs/forbidden_unused.py"
    sub.write_text(SOLUTION.replace("return 3 * x", "if x is None:\n        return torch.mul(x, 3)"
                                                    "\n    return 3 * x"))
    result = check_submission("hwx", sub, course=course).result
    assert result.score == result.max_score
    assert len(result.warnings) == 1 and "names torch.mul" in result.warnings[0]
    assert "warning: triple: line" in render(result, "text")


@pytest.mark.slow
def test_bad_suite_is_a_config_error(course):
    public = course / "reference_tests/hwx/public"
    (public / "test_bad.py").write_text(textwrap.dedent('''
        import pytest


        def test_no_part(student):
            pass


        @pytest.mark.part("quadruple")
        def test_unknown_part(student):
            pass


        @pytest.mark.part("double")
        def test_public_uses_reference(student, reference):
            pass
        '''))
    with pytest.raises(ConfigError) as info:
        check_submission("hwx", course / "solutions/hwx", course=course)
    text = str(info.value)
    assert "test_no_part: needs @pytest.mark.part(NAME)" in text and "got None" in text
    assert "test_unknown_part" in text and "'quadruple'" in text
    assert "test_public_uses_reference: a public test may not use the `reference` fixture" \
        in text


@pytest.mark.slow
def test_tests_that_need_pytest_still_run_through_it(course):
    """Plain tests are called directly; one with a conftest fixture, a skip mark or a
    ``request`` argument goes through pytest's protocol and keeps its meaning."""
    public = course / "reference_tests/hwx/public"
    (public / "conftest.py").write_text(textwrap.dedent('''
        import pytest
        import torch


        @pytest.fixture
        def four():
            return torch.full((4,), 4.0, dtype=torch.float64)
        '''))
    (public / "test_more.py").write_text(textwrap.dedent('''
        import pytest

        from grader.judge.checks import check_function


        @pytest.mark.part("double")
        def test_with_conftest_fixture(student, four):
            check_function(student, "double", lambda x: 2 * x, four)


        @pytest.mark.part("double")
        @pytest.mark.skip(reason="not this year")
        def test_skipped(student):
            raise AssertionError("a skipped test ran")


        @pytest.mark.part("triple")
        def test_with_request(student, request):
            assert request.node.name == "test_with_request"
        '''))
    tests = by_name(check_submission("hwx", course / "subs/tricky.py", course=course).result)
    assert tests["test_with_conftest_fixture"].status == "passed"
    assert tests["test_skipped"].status == "skipped"
    assert tests["test_with_request"].status == "passed"
    assert tests["test_triple"].status == "failed"  # a direct one, beside them


@pytest.mark.slow
def test_a_test_past_its_time_limit_times_out_direct_or_through_pytest(course):
    (course / "course.toml").write_text(COURSE_TOML.replace("request_timeout_s = 10",
                                                            "request_timeout_s = 10\n"
                                                            "test_timeout_s = 1"))
    (course / "reference_tests/hwx/public/test_slow.py").write_text(textwrap.dedent('''
        import time

        import pytest


        @pytest.mark.part("triple")
        def test_judge_side_loop(student):
            time.sleep(30)


        @pytest.mark.part("triple")
        def test_through_pytest_protocol(student, request):
            while True:
                pass
        '''))
    result = check_submission("hwx", course / "solutions/hwx", course=course).result
    for name in ("test_judge_side_loop", "test_through_pytest_protocol"):
        slow = by_name(result)[name]
        assert slow.status == "timeout" and "time limit of 1 s" in slow.message, slow
        assert slow.duration_s < 5
    assert by_name(result)["test_double"].status == "passed"


@pytest.mark.slow
def test_the_judge_grades_with_the_executor_thread_count(course):
    """With a thread per core in every judge, judges and executors oversubscribe the cores."""
    (course / "reference_tests/hwx/public/test_threads.py").write_text(textwrap.dedent('''
        import pytest
        import torch


        @pytest.mark.part("triple")
        def test_judge_threads(student, settings):
            assert torch.get_num_threads() == settings.threads == 1
        '''))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        result = check_submission("hwx", course / "solutions/hwx", course=course).result
        assert torch.get_num_threads() == 2  # given back afterwards
    finally:
        torch.set_num_threads(before)
    assert by_name(result)["test_judge_threads"].status == "passed"


@pytest.mark.slow
def test_a_part_without_tests_is_one_config_error_naming_it(course):
    from click.testing import CliRunner

    from grader.cli import main

    (course / "course.toml").write_text(COURSE_TOML + "quadruple = { points = 4 }\n")
    with pytest.raises(ConfigError) as info:
        check_submission("hwx", course / "solutions/hwx", course=course)
    message = str(info.value)
    assert "\n" not in message and "hw.hwx.parts.quadruple has no tests" in message
    assert str(course / "course.toml") in message
    result = CliRunner().invoke(main, ["check", "hwx", str(course / "solutions/hwx"),
                                       "--course", str(course)])
    assert result.exit_code == 2 and result.output.strip() == f"grade: error: {message}"


@pytest.mark.slow
def test_a_weight_that_is_not_positive_is_a_config_error(course):
    public = course / "reference_tests/hwx/public/test_pub.py"
    public.write_text(public.read_text().replace("@pytest.mark.weight(3)",
                                                 "@pytest.mark.weight(0)"))
    with pytest.raises(ConfigError, match=r"weight\(w\) needs a number w > 0"):
        check_submission("hwx", course / "solutions/hwx", course=course)


@pytest.mark.slow
def test_a_finite_answer_where_the_reference_is_infinite_fails(course):
    (course / "reference_tests/hwx/public/test_inf.py").write_text(textwrap.dedent('''
        import math

        import pytest
        import torch

        from grader.judge.checks import check_function


        @pytest.mark.part("double")
        def test_double_overflows(student):
            x = torch.tensor([1.0, math.inf, -3.0], dtype=torch.float64)
            check_function(student, "double", lambda x: 2 * x, x)
        '''))
    clamped = course / "subs" / "clamped.py"
    clamped.write_text(SOLUTION.replace("return 2 * x", "return torch.nan_to_num(2 * x)"))
    result = check_submission("hwx", clamped, course=course).result
    test = by_name(result)["test_double_overflows"]
    assert test.status == "failed" and "where the reference is inf" in test.message
    assert by_name(check_submission("hwx", course / "solutions/hwx", course=course).result)[
        "test_double_overflows"].status == "passed"
