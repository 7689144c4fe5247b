"""The rubric file: points by exact id or glob, hidden checks, settings, and loud errors."""

from dataclasses import dataclass

import pytest

from graders.core.errors import HarnessError
from graders.core.rubric import Rubric
from graders.harness.student import SandboxSettings

RUBRIC = """
[sandbox]
call_timeout_s = 5
[q5]
title = "Shapes"
cases = 3
[q5.checks]
"table.layer*" = 1
"table.layer9" = { points = 2, hidden = true }
"conv.valid" = 1.5
"""


@pytest.fixture
def rubric(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC)
    return Rubric.load(path)


def test_exact_key_beats_glob_and_hidden_is_read(rubric):
    assert rubric.rule("q5.table.layer3").points == 1 and not rubric.rule("q5.table.layer3").hidden
    assert rubric.rule("q5.table.layer9").points == 2 and rubric.rule("q5.table.layer9").hidden
    assert rubric.rule("q5.conv.valid").points == 1.5


@dataclass(frozen=True)
class Shapes:
    cases: int


@dataclass(frozen=True)
class ShapesWithTolerance:
    cases: int
    atol: float


@dataclass(frozen=True)
class ShapesAsText:
    cases: str


def test_settings_and_titles(rubric):
    assert rubric.section("q5", Shapes) == Shapes(cases=3)
    assert rubric.title("q5") == "Shapes" and rubric.title("q9") == "q9"


def test_a_float_setting_takes_an_int_and_a_tuple_takes_a_list(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text("[q1]\nrate = 1\nrange = [0.5, 1.5]\n")

    @dataclass(frozen=True)
    class Typed:
        rate: float
        range: tuple

    assert Rubric.load(path).section("q1", Typed) == Typed(rate=1.0, range=(0.5, 1.5))


@pytest.mark.parametrize("call", [lambda r: r.rule("q5.conv.same"), lambda r: r.rule("q8.x"),
                                  lambda r: r.section("q5", ShapesWithTolerance),
                                  lambda r: r.section("q5", ShapesAsText),
                                  lambda r: r.section("sandbox", Shapes)])
def test_missing_entries_fail_loudly(rubric, call):
    with pytest.raises(HarnessError, match="rubric"):
        call(rubric)


def test_unreadable_rubric_is_a_harness_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[q5\n")
    with pytest.raises(HarnessError, match="cannot read the rubric"):
        Rubric.load(bad)
    with pytest.raises(HarnessError):
        Rubric.load(tmp_path / "missing.toml")


def test_the_shipped_rubric_has_sandbox_limits():
    limits = Rubric.load().section("sandbox", SandboxSettings)
    assert all(value > 0 for value in vars(limits).values())
