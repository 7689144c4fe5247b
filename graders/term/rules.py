"""The rubric's term sections: `[manual]` (points of the items a TA marks by hand) and `[late]` (the late rule).

    [manual]
    q1a = 2                        # item id = points
    [late]
    due = 2025-03-14T23:59:00+01:00
    penalty_per_day = 10           # per started day late
    unit = "percent"               # of the maximum grade, or "points"
    cap = 30                       # the most it takes away (same unit)
    grace_minutes = 15             # optional
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from graders.core.errors import HarnessError

MANUAL, LATE = "manual", "late"
UNITS = ("percent", "points")
LATE_KEYS = {"due", "penalty_per_day", "unit", "cap", "grace_minutes"}


@dataclass(frozen=True)
class LatePenalty:
    """What a late submission loses: the days counted, the points, and the sentence that says why."""

    days: int
    points: float
    reason: str


@dataclass(frozen=True)
class LateRule:
    due: datetime
    penalty_per_day: float
    cap: float
    unit: str = "percent"
    grace_minutes: float = 0.0

    def penalty(self, submitted: datetime, *, max_points: float, extension_days: float = 0.0,
                due: datetime | None = None) -> LatePenalty | None:
        """The penalty of a submission made at `submitted`; None when it is on time.

        Args:
            max_points: the maximum grade (a "percent" rule takes its share of it).
            extension_days: days added to the due date for this student.
            due: this student's own due date (replaces the rule's).

        Raises:
            ValueError: one of the two times has a UTC offset and the other has none.
        """
        deadline = (due or self.due) + timedelta(days=extension_days)
        late = _difference(submitted, deadline) - timedelta(minutes=self.grace_minutes)
        if late <= timedelta(0):
            return None
        days = math.ceil(late / timedelta(days=1))
        amount = min(self.cap, days * self.penalty_per_day)
        points = amount * max_points / 100 if self.unit == "percent" else amount
        size = f"{amount:g} % of {max_points:g}" if self.unit == "percent" else f"{amount:g} points"
        capped = " (the cap)" if amount == self.cap and days * self.penalty_per_day > self.cap else ""
        extended = f" (extended by {extension_days:g} days)" if extension_days else ""
        own = " (this student's own due date)" if due else ""
        reason = (f"submitted {_when(submitted)}, {days} day{'s' if days != 1 else ''} after the due date "
                  f"{_when(deadline)}{own}{extended}: -{size}{capped}")
        return LatePenalty(days, round(points, 4), reason)


@dataclass(frozen=True)
class TermRules:
    """The manual items with their points (in the rubric's order) and the late rule, if any."""

    manual: dict[str, float]
    late: LateRule | None = None

    @property
    def manual_max(self) -> float:
        return sum(self.manual.values())


def term_rules(data: dict, *, where: str = "the rubric") -> TermRules:
    """The `[manual]` and `[late]` sections of a parsed rubric.

    Raises:
        HarnessError: a manual item whose points are not a non-negative number; a late rule with an
            unknown or missing key, or a value of the wrong kind.
    """
    manual = {}
    for item, points in (data.get(MANUAL) or {}).items():
        if not _number(points) or points < 0:
            raise HarnessError(f"{where}: [manual] {item} must be a number of points >= 0, got {points!r}")
        manual[item] = float(points)
    return TermRules(manual, _late_rule(data.get(LATE), where))


def _late_rule(section, where: str) -> LateRule | None:
    if section is None:
        return None
    if not isinstance(section, dict):
        raise HarnessError(f"{where}: [late] must be a table")
    unknown, missing = sorted(set(section) - LATE_KEYS), sorted({"due", "penalty_per_day", "cap"} - set(section))
    if unknown or missing:
        raise HarnessError(f"{where}: [late] has unknown keys {unknown} or lacks {missing}" if unknown else
                           f"{where}: [late] lacks {missing}")
    due = as_datetime(section["due"])
    if due is None:
        raise HarnessError(f"{where}: [late] due must be a TOML date-time (2025-03-14T23:59:00+01:00), "
                           f"got {section['due']!r}")
    unit = section.get("unit", "percent")
    numbers = {key: section.get(key, 0) for key in ("penalty_per_day", "cap", "grace_minutes")}
    bad = sorted(key for key, value in numbers.items() if not _number(value) or value < 0)
    if bad or unit not in UNITS:
        raise HarnessError(f"{where}: [late] {', '.join(bad) or 'unit'} must be " +
                           ("numbers >= 0" if bad else f"one of {UNITS}"))
    return LateRule(due, float(numbers["penalty_per_day"]), float(numbers["cap"]), unit,
                    float(numbers["grace_minutes"]))


def as_datetime(value) -> datetime | None:
    """A TOML date-time (or date: its midnight), or the ISO text a results JSON stored it as; None otherwise."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _difference(later: datetime, earlier: datetime) -> timedelta:
    if (later.tzinfo is None) != (earlier.tzinfo is None):
        raise ValueError(f"{_when(later)} and {_when(earlier)}: give both times with a UTC offset, or neither")
    return later - earlier


def _when(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="minutes")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
