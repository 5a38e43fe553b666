"""grader.wire.rules: the kinds of forbidden pattern, their checks, the messages; and the
manifest refusing a malformed list with a one-line message."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course.manifest import load_course
from grader.errors import ConfigError
from grader.wire import rules as wire_rules
from grader.wire.rules import RECORDER_OFF, check_pattern, describe_hit, split_rules


def test_a_list_splits_by_kind_and_autograd_wildcards_expand():
    rules = split_rules(["torch.nn.functional.softmax", "aten._softmax", "aten.*_backward*",
                         "autograd.*"])
    assert rules.python == ("torch.nn.functional.softmax",)
    assert rules.aten == ("aten._softmax", "aten.*_backward*")
    assert rules.pseudo == {"autograd.backward", "autograd.forward_ad", "autograd.functorch"}
    assert split_rules(["autograd.forward_ad"]).pseudo == {"autograd.forward_ad"}
    assert not split_rules([])


@pytest.mark.parametrize("pattern", ["torch.nn.functional.*pool*", "torch.Tensor.backward",
                                     "aten._softmax", "aten.norm.ScalarOpt_dim", "autograd.*",
                                     "autograd.backward", "torchvision", "aten.*_backward*"])
def test_valid_patterns(pattern):
    assert check_pattern(pattern) is None


@pytest.mark.parametrize("pattern, why", [
    ("autograd.engine", "names no autograd pseudo-operator"),
    ("aten.norm.Scalar.extra", "is not an operator name"),
    ("torch softmax", "is not a dotted name"),
    ("", "is not a dotted name"),
    (3, "is not a dotted name"),
])
def test_invalid_patterns_say_what_was_expected(pattern, why):
    message = check_pattern(pattern)
    assert message is not None and why in message and "expected" in message


@pytest.mark.parametrize("hit, text", [
    ({"rule": "aten._softmax", "call": "torch.nn.functional.softmin", "line": 23},
     "softmax: line 23 calls torch.nn.functional.softmin, which runs aten._softmax, forbidden "
     "in this part"),
    ({"rule": "aten._softmax", "call": None, "line": 4},
     "softmax: line 4 runs aten._softmax, forbidden in this part"),
    ({"rule": "autograd.backward", "call": "torch.autograd.grad", "line": 9},
     "softmax: line 9 calls torch.autograd.grad, which runs the autograd engine (a backward "
     "pass), forbidden in this part"),
    ({"rule": "torch.broadcast_shapes", "call": "torch.broadcast_shapes", "line": 2},
     "softmax: line 2 calls torch.broadcast_shapes, forbidden in this part"),
    ({"rule": "aten._softmax", "call": "x", "line": None},
     "softmax: code outside the submission's file calls x, which runs aten._softmax, forbidden "
     "in this part"),
    ({"rule": RECORDER_OFF, "call": "torch._C.DisableTorchFunction", "line": 5},
     "softmax: line 5 switches off the grader's recorder (with torch._C.DisableTorchFunction), "
     "which is forbidden in every part that forbids something"),
])
def test_messages_name_the_operator_the_call_and_the_line(hit, text):
    assert describe_hit("softmax", hit) == text


def test_an_executors_hit_is_untrusted_data():
    text = describe_hit("p", {"rule": "aten." + "x" * 5000, "call": ["not", "text"],
                              "line": True})
    assert len(text) < 400 and "code outside the submission's file" in text


def write_course(root: Path, forbidden: str) -> Path:
    (root / "course.toml").write_text(
        '[hw.hwx]\nfile = "m.py"\n\n[hw.hwx.parts]\n'
        f'f = {{ points = 1, forbidden = {forbidden} }}\n', encoding="utf-8")
    return root


def test_the_manifest_refuses_a_bad_pattern_naming_part_and_pattern(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_course(write_course(tmp_path, '["aten._softmax", "autograd.engine"]'))
    text = str(err.value)
    assert "hw.hwx.parts.f.forbidden" in text and "'autograd.engine'" in text
    assert "autograd.backward" in text and len(text.splitlines()) == 1


def test_the_manifest_refuses_a_list_that_is_not_a_list(tmp_path):
    with pytest.raises(ConfigError, match="forbidden must be a list of strings"):
        load_course(write_course(tmp_path, '"torch.softmax"'))


def test_a_bad_pattern_is_exit_code_2_at_the_cli(tmp_path, monkeypatch):
    write_course(tmp_path, '["torch softmax"]')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "hwx"])
    assert result.exit_code == 2 and "forbidden pattern 'torch softmax'" in result.stderr


def test_the_repository_course_lists_are_valid():
    course = load_course(Path(__file__).resolve().parents[2])
    lists = [p.forbidden for hw in course.homeworks.values() for p in hw.parts if p.forbidden]
    assert lists and all(check_pattern(p) is None for patterns in lists for p in patterns)


def test_glob_agrees_with_fnmatch_on_many_names():
    import fnmatch
    import random

    from grader.wire.rules import glob

    rng = random.Random(12)
    patterns = ["aten.*_backward*", "aten.*softmax*", "aten.norm", "a*b*a", "*", "**", "x*x",
                "aten.linalg_*norm", "ab*ba", "*pool*", "torch.nn.*Pool*", "a?b", "[ab]*"]
    names = ["aten.threshold_backward", "aten._softmax", "aten.norm.Scalar", "aba", "ab", "x",
             "xx", "torch.nn.MaxPool2d", "aten.linalg_vector_norm", ""] + [
        "".join(rng.choice("abx_.Ptn") for _ in range(rng.randint(0, 8))) for _ in range(2000)]
    assert [(p, n) for p in patterns for n in names
            if glob(p)(n) != fnmatch.fnmatchcase(n, p)] == []


def test_resolve_finds_real_names_and_nothing_else(monkeypatch):
    import json.decoder
    import types

    assert wire_rules.resolve("json.decoder.JSONDecoder") is json.decoder.JSONDecoder
    assert wire_rules.resolve("json.no_such_thing") is None
    assert wire_rules.resolve("no_such_module_anywhere.x") is None
    # a module already imported is used as it is, without a search of the file system
    fake = types.ModuleType("grader_fake_mod")
    fake.inner = types.SimpleNamespace(f=len)
    monkeypatch.setitem(sys.modules, "grader_fake_mod", fake)
    assert wire_rules.resolve("grader_fake_mod.inner.f") is len
    assert wire_rules.resolve("grader_fake_mod.inner.g") is None


def test_the_warm_argument_carries_each_distinct_list_once_and_round_trips():
    first = ["torch.softmax", "aten.*softmax*", "torch.softmax"]
    args = ("torch._dynamo", *wire_rules.warm_argument([first, [], sorted(set(first))]))
    assert len(args) == 2 and args[1].startswith(wire_rules.WARM_LISTS)
    modules, lists = wire_rules.split_warm(args)
    assert modules == ("torch._dynamo",)
    assert lists == (("aten.*softmax*", "torch.softmax"),)
    assert wire_rules.warm_argument([[], ()]) == ()


@pytest.mark.parametrize("value", ['{"a": 1}', '[["ok"], [1]]', '["flat"]'])
def test_a_malformed_warm_argument_is_refused_with_what_was_expected(value):
    with pytest.raises(ValueError, match="JSON list of lists of patterns"):
        wire_rules.split_warm([wire_rules.WARM_LISTS + value])


def test_each_homework_asks_its_executors_to_warm_its_own_lists():
    for homework in load_course(Path(__file__).resolve().parents[2]).homeworks.values():
        _, lists = wire_rules.split_warm(homework.executor_preload)
        wanted = {tuple(sorted(set(p.forbidden))) for p in homework.parts if p.forbidden}
        assert set(lists) == wanted and len(lists) == len(wanted), homework.id
