"""grader.config and grader.api.homework_settings: settings resolve once, by the README's rule
(command-line options > ``GRADE_*`` environment > ``[hw.ID.settings]`` > course ``[settings]``
> the defaults), and a bad key, type or value is one ConfigError or UsageError naming the
setting, where it came from and what was expected."""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import api
from grader.api import homework_settings
from grader.cli import main
from grader.config import Settings, resolve_settings
from grader.course.manifest import load_course
from grader.errors import ConfigError, UsageError

COURSE = """
[course]
name = "tiny"

[settings]
{course}

[hw.hwx]
file = "mod.py"
parts = {{ double = 1 }}

[hw.hwx.settings]
{hw}
"""


@pytest.fixture(autouse=True)
def _no_grade_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the GRADE_* variables it means (the suite's conftest sets one too)."""
    import os

    for key in list(os.environ):
        if key.startswith("GRADE_"):
            monkeypatch.delenv(key)


def _course(tmp_path: Path, course: str = "", hw: str = "") -> Path:
    text = COURSE.format(course=textwrap.dedent(course), hw=textwrap.dedent(hw))
    (tmp_path / "course.toml").write_text(text, encoding="utf-8")
    (tmp_path / "mod.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    return tmp_path


def _settings(root: Path, **overrides: object) -> Settings:
    loaded = load_course(root)
    return homework_settings(loaded, loaded.homework("hwx"), dict(overrides))


# -- precedence ---------------------------------------------------------------------------------

LADDER = ["default", "course", "homework", "environment", "command line"]


@pytest.mark.parametrize("top", LADDER)
def test_each_layer_beats_every_layer_below_it(tmp_path, monkeypatch, top):
    """request_timeout_s set in every layer up to ``top``: the value of ``top`` wins."""
    given = LADDER[1:LADDER.index(top) + 1]
    root = _course(tmp_path, course="request_timeout_s = 1" if "course" in given else "",
                   hw="request_timeout_s = 2" if "homework" in given else "")
    if "environment" in given:
        monkeypatch.setenv("GRADE_REQUEST_TIMEOUT_S", "3")
    overrides = {"request_timeout_s": 4.0} if "command line" in given else {}
    expected = {"default": Settings().request_timeout_s, "course": 1.0, "homework": 2.0,
                "environment": 3.0, "command line": 4.0}[top]
    assert _settings(root, **overrides).request_timeout_s == expected


def test_layers_merge_key_by_key(tmp_path, monkeypatch):
    """A layer overrides only the keys it sets; the others come from below."""
    root = _course(tmp_path, course='memory_mb = 512\nthreads = 2\nseed_salt = "fall"',
                   hw="threads = 3\ncpu_s = 60")
    monkeypatch.setenv("GRADE_CPU_S", "30")
    settings = _settings(root, isolation="process")
    assert (settings.memory_mb, settings.threads, settings.cpu_s, settings.seed_salt,
            settings.isolation, settings.fsize_mb) == (512, 3, 30, "fall", "process",
                                                       Settings().fsize_mb)


def test_an_option_not_given_is_none_and_leaves_the_layer_below(tmp_path, monkeypatch):
    """The CLI passes every option, None where it was not given: None never overrides."""
    root = _course(tmp_path, hw='isolation = "portable"')
    monkeypatch.setenv("GRADE_DEVICE", "cpu")
    settings = _settings(root, isolation=None, device=None)
    assert (settings.isolation, settings.device) == ("portable", "cpu")


def test_the_environment_is_read_by_name_and_converted(monkeypatch):
    monkeypatch.setenv("GRADE_MEMORY_MB", "512")
    monkeypatch.setenv("GRADE_IMPORT_TIMEOUT_S", "2.5")
    monkeypatch.setenv("GRADE_SEED_SALT", "2026")
    monkeypatch.setenv("GRADE_NOT_A_SETTING", "x")  # another tool's variable: not ours
    monkeypatch.setenv("GRADER_THREADS", "9")  # not the prefix
    settings = resolve_settings()
    assert (settings.memory_mb, settings.import_timeout_s, settings.seed_salt, settings.threads) \
        == (512, 2.5, "2026", Settings().threads)
    assert type(settings.memory_mb) is int and type(settings.import_timeout_s) is float


def test_an_explicit_environ_replaces_the_process_environment(monkeypatch):
    monkeypatch.setenv("GRADE_THREADS", "4")
    assert resolve_settings(environ={}).threads == Settings().threads
    assert resolve_settings(environ={"GRADE_THREADS": "5"}).threads == 5


def test_the_cli_option_beats_the_environment_and_the_manifest(tmp_path, monkeypatch):
    """`grade check --isolation` through click, down to the settings the launcher gets."""
    root = _course(tmp_path, course='isolation = "namespace"', hw='isolation = "process"\n'
                   "threads = 2")
    monkeypatch.setenv("GRADE_ISOLATION", "auto")
    seen: list[Settings] = []

    @contextmanager
    def no_launcher(homework, settings):
        seen.append(settings)
        raise UsageError("stopped before any executor starts")
        yield  # pragma: no cover

    monkeypatch.setattr(api, "open_template", no_launcher)
    args = ["check", "hwx", str(root / "mod.py"), "--course", str(root)]
    result = CliRunner().invoke(main, [*args, "--isolation", "portable"])
    assert result.exit_code == 2 and "stopped before" in result.output, result.output
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert [(s.isolation, s.threads) for s in seen] == [("portable", 2), ("auto", 2)]


# -- bad keys, types and values -----------------------------------------------------------------

def test_an_unknown_setting_names_its_layer_and_the_known_ones(tmp_path, monkeypatch):
    root = _course(tmp_path, hw="request_timeout = 5")
    with pytest.raises(ConfigError) as info:
        _settings(root)
    message = str(info.value)
    assert "'request_timeout'" in message and "course.toml [hw.hwx.settings]" in message
    assert "request_timeout_s" in message and "\n" not in message
    with pytest.raises(ConfigError, match=r"'memory' in course.toml \[settings\]"):
        _settings(_course(tmp_path, course="memory = 5"))
    with pytest.raises(ConfigError, match="'colour' in the command line"):
        _settings(_course(tmp_path), colour="red")


@pytest.mark.parametrize(("layer", "value", "source"), [
    ("course", 'memory_mb = "lots"', r"memory_mb from course.toml \[settings\] must be a int"),
    ("hw", 'request_timeout_s = "soon"', r"request_timeout_s from course.toml \[hw.hwx.settings\] "
                                         "must be a float"),
    ("env", "GRADE_THREADS=two", r"threads from the environment \(GRADE_\*\) must be a int"),
    ("env", "GRADE_MEMORY_MB=2048.5", "memory_mb from the environment"),
    ("cli", "cpu_s=[1]", "cpu_s from the command line must be a int"),
])
def test_a_value_of_the_wrong_type_names_the_setting_and_its_source(tmp_path, monkeypatch,
                                                                     layer, value, source):
    overrides = {}
    root = _course(tmp_path, course=value if layer == "course" else "",
                   hw=value if layer == "hw" else "")
    if layer == "env":
        monkeypatch.setenv(*value.split("=", 1))
    if layer == "cli":
        overrides = {"cpu_s": [1]}
    with pytest.raises(ConfigError, match=source) as info:
        _settings(root, **overrides)
    assert "(got " in str(info.value)


@pytest.mark.parametrize("value", ["memory_mb = true", "threads = 2.5", "cpu_s = false",
                                   "request_timeout_s = true"])
def test_a_boolean_or_a_fraction_is_not_silently_made_a_number(tmp_path, value):
    """TOML's ``true`` is no number of megabytes (int(True) is 1), and 2.5 threads is not 2."""
    name = value.split(" ")[0]
    with pytest.raises(ConfigError, match=f"setting {name} from course.toml"):
        _settings(_course(tmp_path, course=value))


def test_numbers_convert_where_nothing_is_lost(tmp_path):
    settings = _settings(_course(tmp_path, course="request_timeout_s = 5\nmemory_mb = 1024.0\n"
                                                  "seed_salt = 2026"))
    assert (settings.request_timeout_s, settings.memory_mb, settings.seed_salt) == (5.0, 1024,
                                                                                   "2026")
    assert type(settings.request_timeout_s) is float and type(settings.memory_mb) is int


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:0", "cuda:12", "mps"])
def test_the_devices_that_exist(device):
    assert resolve_settings(overrides={"device": device}, environ={}).device == device


@pytest.mark.parametrize(("name", "value", "error", "words"), [
    ("device", "tpu", UsageError, "--device must be cpu, cuda, cuda:N or mps (got 'tpu')"),
    ("device", "cuda:", UsageError, "--device must be"),
    ("device", "cuda:-1", UsageError, "--device must be"),
    ("device", "CPU", UsageError, "--device must be"),
    ("isolation", "docker", UsageError, "--isolation must be auto, namespace, process or portable"),
    ("request_timeout_s", 0, ConfigError, "request_timeout_s must be positive (got 0.0)"),
    ("import_timeout_s", -1, ConfigError, "import_timeout_s must be positive"),
    ("memory_mb", 0, ConfigError, "memory_mb must be positive"),
    ("cpu_s", 0, ConfigError, "cpu_s must be positive"),
    ("threads", 0, ConfigError, "threads must be positive"),
    ("max_reply_mb", -1, ConfigError, "max_reply_mb must be >= 0"),
    ("fsize_mb", -16, ConfigError, "fsize_mb must be >= 0"),
    ("sandbox_uid", -1, ConfigError, "sandbox_uid must be >= 0"),
])
def test_a_value_out_of_range_is_refused(name, value, error, words):
    with pytest.raises(error) as info:
        resolve_settings(overrides={name: value}, environ={})
    assert words in str(info.value) and type(info.value) is error


def test_zero_means_no_limit_where_the_docs_say_so():
    """test_timeout_s 0 turns the judge's outer limit off; sandbox_uid 0 keeps the grader's uid;
    gpu_memory_mb 0 sets no cap."""
    settings = resolve_settings(overrides={"test_timeout_s": 0, "sandbox_uid": 0,
                                           "gpu_memory_mb": 0}, environ={})
    assert (settings.test_timeout_s, settings.sandbox_uid, settings.gpu_memory_mb) == (0.0, 0, 0)


def test_a_bad_value_in_the_manifest_fails_at_the_cli_in_one_line(tmp_path, monkeypatch):
    root = _course(tmp_path, hw="threads = 0")
    result = CliRunner().invoke(main, ["check", "hwx", str(root / "mod.py"), "--course", str(root)])
    assert result.exit_code == 2
    assert [ln for ln in result.output.splitlines() if ln] == [
        "grade: error: setting threads must be positive (got 0)"]


# -- the record ---------------------------------------------------------------------------------

def test_the_defaults_are_the_records_and_it_is_frozen():
    settings = resolve_settings(environ={})
    assert settings == Settings()
    with pytest.raises(AttributeError):
        settings.threads = 4  # type: ignore[misc]
    assert settings.memory_bytes == Settings().memory_mb << 20


def test_the_grading_key_holds_what_can_change_a_grade():
    base = Settings()
    assert Settings(device="cuda:1").grading_key() == Settings(device="cuda").grading_key()
    assert Settings(sandbox_uid=31000).grading_key() == base.grading_key()
    for f in fields(Settings):
        if f.name in ("device", "sandbox_uid"):
            continue
        changed = {str: "x", int: 7, float: 7.5}[type(f.default)]
        assert Settings(**{f.name: changed}).grading_key() != base.grading_key(), f.name
