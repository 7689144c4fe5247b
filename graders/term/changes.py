"""What a batch, a rescore or a recheck changed in the class's grades, and why.

A run's *state* (`class_state`) is every student's total and each of its items: the checks (score,
maximum, status), the manual items, the overrides and the late penalty. Two states give the
*differences* (`differences`): per student, the total before and after, and each item that changed
with the reason: the rubric line that changed (a check's points or hidden flag, a setting of its
question), "re-run" for a check run again, or the TA's reason for a mark, an override or a penalty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from graders.core.rubric import rule_key
from graders.term.grades import LATE, OVERRIDE, StudentGrade

NOT_SETTINGS = ("title", "checks")
RERUN_BECAUSE = "re-run: "  # a check run again because the rubric changed what it observes, then why


@dataclass(frozen=True)
class Rerun:
    """Checks of a student that ran again in this run (None: all of them), and why (per check, where it differs)."""

    reason: str
    checks: frozenset[str] | None = None
    why: dict[str, str] = field(default_factory=dict)

    def covers(self, check_id: str) -> bool:
        return self.checks is None or check_id in self.checks

    def reason_for(self, check_id: str) -> str:
        return self.why.get(check_id, self.reason)


@dataclass(frozen=True)
class ItemChange:
    item: str  # a check id, a manual item, "override" or "late"
    before: str  # "1/1 passed", "-", ...
    after: str
    why: str


@dataclass(frozen=True)
class StudentChange:
    student: str
    total_before: float | None  # None: not graded before
    total_after: float | None  # None: no longer in the class
    max_before: float | None
    max_after: float | None
    items: tuple[ItemChange, ...]


@dataclass(frozen=True)
class ChangeSet:
    """One run's differences: when, by which command, the rubric lines that changed, and each student changed."""

    when: str
    command: str
    rubric_before: str  # sha256 of the rubric before ("" when unknown)
    rubric_after: str
    rubric_lines: tuple[str, ...]
    students: tuple[StudentChange, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {"when": self.when, "command": self.command, "rubric_before": self.rubric_before,
                "rubric_after": self.rubric_after, "rubric_lines": list(self.rubric_lines),
                "students": [{"student": s.student, "total_before": s.total_before, "total_after": s.total_after,
                              "max_before": s.max_before, "max_after": s.max_after,
                              "items": [vars(item) for item in s.items]} for s in self.students]}

    @classmethod
    def from_json(cls, data: dict) -> "ChangeSet":
        students = tuple(StudentChange(s["student"], s.get("total_before"), s.get("total_after"), s.get("max_before"),
                                       s.get("max_after"), tuple(ItemChange(**item) for item in s.get("items", [])))
                         for s in data.get("students", []))
        return cls(data.get("when", ""), data.get("command", ""), data.get("rubric_before", ""),
                   data.get("rubric_after", ""), tuple(data.get("rubric_lines", [])), students)

    def of(self, student: str) -> StudentChange | None:
        return next((change for change in self.students if change.student == student), None)


def plain(data):
    """`data` as JSON keeps it (TOML date-times become ISO text), so two rubrics compare alike from either side."""
    return json.loads(json.dumps(data, default=lambda value: value.isoformat() if hasattr(value, "isoformat")
                                 else str(value)))


def class_state(grades: list[StudentGrade], *, rubric_data: dict, rubric_sha256: str, rubric_path: str,
                marks_sha256: str, command: str, when: str) -> dict:
    """The state OUT/grades.json records after a run (see the module's docstring)."""
    return {"when": when, "command": command, "rubric": {"sha256": rubric_sha256, "path": rubric_path},
            "rubric_data": plain(rubric_data), "marks_sha256": marks_sha256,
            "students": {grade.student: student_state(grade) for grade in grades}}


def student_state(grade: StudentGrade) -> dict:
    items = {check: [score, top, status] for check, (score, top, status) in grade.checks.items()}
    items.update({mark.item: [mark.points, mark.max_points, mark.comment] for mark in grade.manual})
    for kind in (OVERRIDE, LATE):
        chosen = [a for a in grade.adjustments if a.kind == kind]
        if chosen:
            items[kind] = [round(sum(a.points for a in chosen), 4), 0.0, "; ".join(a.reason for a in chosen)]
    return {"total": grade.total, "max": grade.max, "status": grade.status, "items": items}


def differences(before: dict, after: dict, *, reruns: dict[str, Rerun] | None = None, when: str = "",
                command: str = "") -> ChangeSet:
    """What changed from state `before` to state `after`, student by student.

    Args:
        reruns: the students whose checks ran again in this run, and why.
    """
    reruns = reruns or {}
    old_rubric, new_rubric = before.get("rubric_data", {}), after.get("rubric_data", {})
    old_students, new_students = before.get("students", {}), after.get("students", {})
    changed = []
    for student in sorted(set(old_students) | set(new_students), key=_natural):
        old, new = old_students.get(student), new_students.get(student)
        change = _student_change(student, old, new, reruns.get(student), old_rubric, new_rubric)
        if change is not None:
            changed.append(change)
    return ChangeSet(when or after.get("when", ""), command or after.get("command", ""),
                     before.get("rubric", {}).get("sha256", ""), after.get("rubric", {}).get("sha256", ""),
                     tuple(rubric_lines(old_rubric, new_rubric)), tuple(changed))


def _student_change(student, old, new, rerun, old_rubric, new_rubric) -> StudentChange | None:
    if old is None or new is None:
        what = rerun.reason if rerun and new else "first graded" if new else "no longer in OUT"
        return StudentChange(student, old and old["total"], new and new["total"], old and old["max"],
                             new and new["max"], (ItemChange("grade", _total(old), _total(new), what),))
    items = []
    for item in sorted(set(old["items"]) | set(new["items"]), key=_natural):
        before, after = old["items"].get(item), new["items"].get(item)
        if before == after:
            continue
        items.append(ItemChange(item, _shown(before), _shown(after), _why(item, after, rerun, old_rubric, new_rubric)))
    if not items and old["total"] == new["total"] and old["max"] == new["max"]:
        return None
    return StudentChange(student, old["total"], new["total"], old["max"], new["max"], tuple(items))


def _why(item: str, after, rerun: Rerun | None, old_rubric: dict, new_rubric: dict) -> str:
    if "." not in item:  # a manual item, the overrides, the late penalty: the TA's own words
        if after is None:
            return "removed"
        if item in (OVERRIDE, LATE):
            return after[2]
        return f"marked by hand: {after[2]}" if after[0] is not None and after[2] else \
            "marked by hand" if after[0] is not None else "mark removed"
    because = rubric_reason(item, old_rubric, new_rubric)
    if rerun is not None and rerun.covers(item):
        reason = rerun.reason_for(item)
        if because and reason.startswith(RERUN_BECAUSE):  # the rubric lines say the same, with the values
            reason = RERUN_BECAUSE.rstrip(": ")
        return reason + (f"; {because}" if because else "")
    return because or "judged again"


def rubric_reason(check_id: str, old: dict, new: dict) -> str:
    """The rubric lines that changed for `check_id`: the points or hidden flag of its key, its question's settings."""
    question, _, local = check_id.partition(".")
    reasons = []
    old_checks, new_checks = _table(old, question).get("checks", {}), _table(new, question).get("checks", {})
    old_key, new_key = rule_key(old_checks, local), rule_key(new_checks, local)
    if (old_key, old_checks.get(old_key)) != (new_key, new_checks.get(new_key)):
        reasons.append(f"[{question}.checks] {_key(new_key or old_key or local)}: "
                       f"{_value(old_checks.get(old_key))} -> {_value(new_checks.get(new_key))}")
    old_settings, new_settings = _settings(_table(old, question)), _settings(_table(new, question))
    reasons += [f"[{question}] {key}: {_value(old_settings.get(key))} -> {_value(new_settings.get(key))}"
                for key in sorted(set(old_settings) | set(new_settings))
                if old_settings.get(key) != new_settings.get(key)]
    return "; ".join(reasons)


def rubric_lines(old: dict, new: dict) -> list[str]:
    """Every line of the rubric that differs: "[q5.checks] "conv.valid": 1 -> 3", "[q6] atol: 0.0003 -> 0.001"."""
    old, new = plain(old), plain(new)
    lines = []
    for section in sorted(set(old) | set(new)):
        a, b = old.get(section), new.get(section)
        if isinstance(a, dict) or isinstance(b, dict):
            lines += _table_lines(section, a if isinstance(a, dict) else {}, b if isinstance(b, dict) else {})
        elif a != b:
            lines.append(f"{_key(section)}: {_value(a)} -> {_value(b)}")
    return lines


def _table_lines(name: str, a: dict, b: dict) -> list[str]:
    lines = []
    for key in sorted(set(a) | set(b), key=lambda k: (k == "checks", k)):
        if key == "checks" and (isinstance(a.get(key), dict) or isinstance(b.get(key), dict)):
            lines += _table_lines(f"{name}.checks", a.get(key) or {}, b.get(key) or {})
        elif a.get(key) != b.get(key):
            lines.append(f"[{name}] {_key(key)}: {_value(a.get(key))} -> {_value(b.get(key))}")
    return lines


def _table(data: dict, name: str) -> dict:
    table = data.get(name)
    return table if isinstance(table, dict) else {}


def _settings(table: dict) -> dict:
    return {key: value for key, value in table.items() if key not in NOT_SETTINGS}


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _value(value) -> str:
    """A rubric value as the TOML file writes it; "(none)" for a key that is not there."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value) if isinstance(value, float) else str(value)


def _shown(item) -> str:
    """An item of a state as a person reads it: "1/1 passed", "1.5/2", "+1", "-"."""
    if item is None:
        return "-"
    points, top, label = item
    if points is None:
        return f"not marked/{top:g}"
    if top == 0:
        return f"{points:+g}"
    return f"{points:g}/{top:g}" + (f" {label}" if label in ("passed", "failed", "error", "skipped") else "")


def _total(state: dict | None) -> str:
    return "-" if state is None else f"{state['total']:g}/{state['max']:g}"


def _natural(text: str):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]
