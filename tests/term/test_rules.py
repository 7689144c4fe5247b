"""The rubric's [manual] items and [late] rule: each started day late costs its penalty, up to the cap."""

from datetime import datetime, timedelta, timezone

import pytest

from graders.core.errors import HarnessError
from graders.core.rubric import Rubric
from graders.questions import QUESTIONS
from graders.term.rules import LateRule, term_rules

CET = timezone(timedelta(hours=1))
DUE = datetime(2025, 3, 14, 23, 59, tzinfo=CET)


def rule(**changes) -> LateRule:
    return LateRule(**{"due": DUE, "penalty_per_day": 10, "cap": 30, "unit": "percent", **changes})


@pytest.mark.parametrize("late, days, points", [
    (timedelta(0), None, None),                     # on the minute: on time
    (timedelta(minutes=1), 1, 3.0),                 # a started day counts whole: 10 % of 30
    (timedelta(days=1), 1, 3.0),
    (timedelta(days=1, minutes=1), 2, 6.0),
    (timedelta(days=9), 9, 9.0),                    # 90 %, capped at 30 %
])
def test_each_started_day_costs_the_penalty_up_to_the_cap(late, days, points):
    penalty = rule().penalty(DUE + late, max_points=30)
    assert (penalty and penalty.days, penalty and penalty.points) == (days, points)
    if penalty:
        assert f"{days} day" in penalty.reason and "-" in penalty.reason


def test_grace_extension_own_due_date_and_points():
    assert rule(grace_minutes=15).penalty(DUE + timedelta(minutes=14), max_points=30) is None
    assert rule(grace_minutes=15).penalty(DUE + timedelta(minutes=16), max_points=30).days == 1
    assert rule().penalty(DUE + timedelta(days=1, hours=1), max_points=30, extension_days=1).days == 1
    assert rule().penalty(DUE + timedelta(days=1, hours=1), max_points=30, extension_days=2) is None
    own = rule().penalty(DUE + timedelta(days=3), max_points=30, due=DUE + timedelta(days=2, hours=12))
    assert own.days == 1 and "own due date" in own.reason
    points = rule(unit="points", penalty_per_day=2, cap=5).penalty(DUE + timedelta(days=4), max_points=30)
    assert points.points == 5 and "(the cap)" in points.reason


def test_a_time_without_offset_against_one_with_it_is_refused():
    with pytest.raises(ValueError, match="UTC offset"):
        rule().penalty(datetime(2025, 3, 15, 10, 0), max_points=30)


def test_the_rubric_declares_points_for_every_manual_item_and_nothing_else():
    rules = term_rules(Rubric.load().data)
    declared = [item for question in QUESTIONS for item in (*question.free_text, *question.manual)]
    assert list(rules.manual) == declared and all(points > 0 for points in rules.manual.values())
    assert rules.late is None  # off until the TA gives a due date


@pytest.mark.parametrize("data, message", [
    ({"manual": {"q1a": -1}}, "q1a must be a number of points >= 0"),
    ({"late": {"due": "tomorrow", "penalty_per_day": 1, "cap": 2}}, "due must be a TOML date-time"),
    ({"late": {"due": DUE, "penalty_per_day": 1}}, "lacks ['cap']"),
    ({"late": {"due": DUE, "penalty_per_day": 1, "cap": 2, "per_hour": 1}}, "unknown keys ['per_hour']"),
    ({"late": {"due": DUE, "penalty_per_day": 1, "cap": 2, "unit": "grade"}}, "unit must be one of"),
])
def test_a_wrong_term_section_is_refused_with_what_is_wrong(data, message):
    with pytest.raises(HarnessError, match=message.replace("[", r"\[").replace("]", r"\]")):
        term_rules(data)
