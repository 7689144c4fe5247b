"""The marks a TA gives by hand: OUT/marks.toml (README "During the term").

    [students.1001]
    q1a = { points = 1.5, comment = "names the trade-off, no example" }   # a manual item of [manual]
    q4a = 2                                                               # points only
    overrides = [{ points = -1, reason = "plot copied from the lecture notes" }]
    submitted = 2025-03-15T09:30:00+01:00       # when it was handed in (for the late rule)
    extension_days = 2                          # or: due = 2025-03-20T23:59:00+01:00 (this student's own)

Every problem of the file is found and said at once, each naming its student and key: a student with
no submission in OUT, an item the rubric's [manual] does not have, points out of range, an override
without a reason, a key that means nothing. Nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from graders.term.rules import as_datetime

MARKS_FILE = "marks.toml"
STUDENT_KEYS = {"overrides", "submitted", "extension_days", "due"}


class MarksError(ValueError):
    """The marks file has problems; the message lists every one."""


@dataclass(frozen=True)
class Mark:
    points: float
    comment: str = ""


@dataclass(frozen=True)
class Override:
    points: float  # added (negative: removed)
    reason: str


@dataclass(frozen=True)
class StudentMarks:
    manual: dict[str, Mark] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    submitted: datetime | None = None
    extension_days: float = 0.0
    due: datetime | None = None


@dataclass(frozen=True)
class Marks:
    students: dict[str, StudentMarks] = field(default_factory=dict)
    path: str = ""
    sha256: str = ""  # of the file's text ("" without a file): a change of it is a change of the grades

    def of(self, student: str) -> StudentMarks:
        return self.students.get(student) or StudentMarks()


def read_marks(path: Path | str | None, *, students: set[str], manual: dict[str, float]) -> Marks:
    """The marks file at `path` (no marks when it is None or does not exist).

    Args:
        students: the students of the class (those with a submission in OUT).
        manual: the manual items of the rubric and their points.

    Raises:
        MarksError: the file is not TOML, or has any problem (all of them in the message).
    """
    if path is None or not Path(path).exists():
        return Marks()
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MarksError(f"{path} is not valid TOML: {error}") from None
    problems: list[str] = [f"[{key}]: unknown table (the marks are under [students.<id>])"
                           for key in data if key != "students"]
    table = data.get("students", {})
    parsed = {}
    for student, entry in (table.items() if isinstance(table, dict) else []):
        where = f"[students.{student}]"
        if student not in students:
            problems.append(f"{where}: no student {student!r} in this class (no submission of that id in OUT)")
        elif not isinstance(entry, dict):
            problems.append(f"{where}: must be a table of marks")
        else:
            parsed[student] = _student(entry, where, manual, problems)
    if problems:
        plural = "s" if len(problems) > 1 else ""
        raise MarksError(f"{path}: {len(problems)} problem{plural}:\n  " + "\n  ".join(problems))
    return Marks(parsed, str(path), hashlib.sha256(text.encode("utf-8")).hexdigest())


def _student(entry: dict, where: str, manual: dict[str, float], problems: list[str]) -> StudentMarks:
    marks = {}
    for key, value in entry.items():
        if key in STUDENT_KEYS:
            continue
        if key not in manual:
            known = ", ".join(manual) or "none"
            problems.append(f"{where} {key}: not a manual item of the rubric ([manual]: {known}) nor one of "
                            f"{sorted(STUDENT_KEYS)}")
            continue
        mark = _mark(value, f"{where} {key}", manual[key], problems)
        if mark is not None:
            marks[key] = mark
    overrides = tuple(o for i, item in enumerate(_list(entry.get("overrides", []), f"{where} overrides", problems))
                      if (o := _override(item, f"{where} overrides[{i}]", problems)) is not None)
    submitted, due = (_moment(entry.get(key), f"{where} {key}", problems) for key in ("submitted", "due"))
    extension = entry.get("extension_days", 0)
    if not _number(extension) or extension < 0:
        problems.append(f"{where} extension_days: must be a number of days >= 0, got {extension!r}")
        extension = 0
    if extension and due is not None:
        problems.append(f"{where}: give extension_days or due, not both")
    return StudentMarks(marks, overrides, submitted, float(extension), due)


def _mark(value, where: str, top: float, problems: list[str]) -> Mark | None:
    if _number(value):
        value = {"points": value}
    if not isinstance(value, dict) or set(value) - {"points", "comment"} or "points" not in value:
        problems.append(f"{where}: must be points, or {{ points = N, comment = \"...\" }}")
        return None
    points, comment = value["points"], value.get("comment", "")
    if not _number(points) or not 0 <= points <= top:
        problems.append(f"{where}: points must be between 0 and {top:g} (the rubric's [manual]), got {points!r}")
        return None
    if not isinstance(comment, str):
        problems.append(f"{where}: comment must be text")
        return None
    return Mark(float(points), comment.strip())


def _override(item, where: str, problems: list[str]) -> Override | None:
    if not isinstance(item, dict) or set(item) - {"points", "reason"}:
        problems.append(f"{where}: must be {{ points = N, reason = \"...\" }}")
        return None
    points, reason = item.get("points"), item.get("reason")
    if not _number(points) or points == 0:
        problems.append(f"{where}: points must be a number other than 0 (negative removes), got {points!r}")
        return None
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{where}: an override needs a reason (reason = \"...\")")
        return None
    return Override(float(points), reason.strip())


def _list(value, where: str, problems: list[str]) -> list:
    if isinstance(value, list):
        return value
    problems.append(f"{where}: must be a list of {{ points = N, reason = \"...\" }}")
    return []


def _moment(value, where: str, problems: list[str]) -> datetime | None:
    if value is None:
        return None
    moment = as_datetime(value) if not isinstance(value, str) else None
    if moment is None:
        problems.append(f"{where}: must be a TOML date-time such as 2025-03-15T09:30:00+01:00, got {value!r}")
    return moment


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
