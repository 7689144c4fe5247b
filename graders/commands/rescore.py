"""`hw3grade rescore OUT`: a class's grades judged again from the stored observations, no student code run.

After a change of points, tolerances, thresholds or hidden flags in the rubric, or of the marks file,
every student's stored result is judged again under the rubric (graders.harness.judgement.rejudge:
what a fresh grading under it gives), then published (graders.commands.publish). A rubric that
changes what checks observe (a training budget, a number of cases, a sandbox limit) is refused with
the checks it affects and the rubric lines that changed: `hw3grade batch OUT --recheck CHECK...` runs
those again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from graders.commands.outfolder import (
    class_rubric,
    marks_path,
    read_settings,
    student_folder,
    student_ids,
    write_settings,
)
from graders.commands.publish import Published, in_processes, publish_class, shown_path
from graders.core.results import GradingResult, read_json, write_json
from graders.core.rubric import Rubric
from graders.harness.judgement import observation_changes, rejudge
from graders.term.changes import rubric_lines
from graders.term.grades import check_times
from graders.term.history import read_state
from graders.term.marks import read_marks
from graders.term.rules import term_rules

RESULTS = "results.json"
RESCORED = ".results.rescored.json"  # a student's rescored result, until every student's rescore is known to pass


class RescoreRefused(ValueError):
    """The rubric changes what some checks observe: they must be run again, not judged again."""

    def __init__(self, checks: dict[str, list[str]], students: dict[str, int], lines: list[str], out: Path,
                 rubric: str | None = None) -> None:
        self.checks, self.students, self.lines = checks, students, lines
        listed = "\n".join(f"  {check} ({students[check]} student{'s' if students[check] != 1 else ''}): "
                           f"{'; '.join(reasons)}" for check, reasons in sorted(checks.items()))
        changed = "\n".join(f"  {line}" for line in lines) or "  (none: the results were judged under no rubric "\
                                                                  "this version records)"
        what = f"{len(checks)} checks observe" if len(checks) != 1 else "1 check observes"
        super().__init__(f"this rubric changes what {what}; a rescore cannot judge them from the stored "
                         f"observations:\n{listed}\n"
                         f"rubric lines changed:\n{changed}\n"
                         f"run them again: hw3grade batch {out}{f' --rubric {rubric}' if rubric else ''} --recheck "
                         f"{' '.join(sorted(checks))}")


@dataclass
class RescoreSummary:
    students: int
    rubric: Rubric
    previous_sha256: str
    published: Published
    seconds: float
    rubric_named: str = ""  # the rubric as the TA named it ("": the class's)

    def describe(self, out) -> str:
        was = f", was {self.previous_sha256[:12]}" if self.previous_sha256 and \
            self.previous_sha256 != self.rubric.sha256 else ""
        return (f"rescored {self.students} students under {self.rubric_named or shown_path(Path(self.rubric.path))} "
                f"(rubric {self.rubric.sha256[:12]}{was}) "
                f"in {self.seconds:.1f} s; no student code ran\n{self.published.describe()}\n"
                f"results in {out} (gradebook.csv, index.html, students/<id>/report.html)")


def rescore_class(*, out: Path | str, rubric: str | None = None, marks: str | None = None) -> RescoreSummary:
    """Judge every stored result in `out` again under `rubric`, merge the marks, and publish.

    Args:
        rubric: the rubric TOML (default: the one the class was last judged under, else graders/rubric.toml);
            a rubric given here becomes the class's.
        marks: the marks file (default OUT/marks.toml).

    Raises:
        RescoreRefused: the rubric changes what some checks observe (nothing is written then).
        FileNotFoundError: `out` has no graded students.
        graders.term.marks.MarksError: the marks file has problems (all listed).
        HarnessError: the rubric cannot be read, or a check has no points in it.
    """
    started = time.perf_counter()
    out = Path(out)
    students = student_ids(out)
    chosen = class_rubric(out, rubric)
    new = Rubric.load(chosen)
    rules = term_rules(new.data, where=str(new.path))
    marked = read_marks(marks_path(out, marks), students=set(students), manual=rules.manual)
    check_times(marked, rules)
    judged = in_processes(_judge_again, [(student_folder(out, student), new) for student in students])
    if not any(old is not None for _, _, old in judged):
        raise FileNotFoundError(f"{out} has no graded students (students/<id>/results.json): run hw3grade batch first")
    try:
        refuse_new_observations(out, [(reasons, old) for _, reasons, old in judged if old is not None], new,
                                given=rubric)
    except RescoreRefused:
        for student in students:
            (student_folder(out, student) / RESCORED).unlink(missing_ok=True)
        raise
    for student in students:  # every student judged again: now the rescored results replace the stored ones
        if (student_folder(out, student) / RESCORED).exists():
            os.replace(student_folder(out, student) / RESCORED, student_folder(out, student) / RESULTS)
    previous = (read_state(out) or {}).get("rubric", {}).get("sha256", "")
    results = [(student, result) for student, (result, _, _) in zip(students, judged)]
    published = publish_class(out, results, rubric=new, marks=marked, command="rescore")
    settings = read_settings(out)
    if rubric and settings is not None:
        write_settings(out, replace(settings, rubric=chosen))  # later runs judge the class under it too
    return RescoreSummary(len(students), new, previous, published, time.perf_counter() - started, rubric or "")


def _judge_again(folder: Path, rubric: Rubric) -> tuple[GradingResult | None, dict[str, list[str]], dict | None]:
    """One student, in a worker process: its stored result judged again under `rubric` and written beside the
    stored one (RESCORED), unless the rubric changes what some of its checks observe.

    Returns:
        (the result without its observations, for publishing; None without a stored result), {check: why it
        must run again}, and the rubric data it was judged under before (None without a stored result).
    """
    stored = read_json(folder / RESULTS)
    if stored is None:
        return None, {}, None
    reasons = observation_changes(stored, rubric)
    if reasons:
        return None, reasons, stored.rubric.get("data") or {}
    result = rejudge(stored, rubric)
    write_json(result, folder / RESCORED, private=True)  # it records the class's seed
    slim = [replace(q, checks=[replace(c, observations={}) for c in q.checks]) for q in result.questions]
    return replace(result, questions=slim), {}, stored.rubric.get("data") or {}


def refuse_new_observations(out: Path, judged: list[tuple[dict[str, list[str]], dict]], rubric: Rubric, *,
                            given: str | None = None) -> None:
    """Raise RescoreRefused when `rubric` changes what some stored checks observed.

    Args:
        judged: per student, {check: why it must run again} (graders.harness.judgement.observation_changes)
            and the rubric data its result was judged under.
        given: the rubric as the TA named it (said again in the command the refusal suggests).

    Raises:
        RescoreRefused: with each such check, how many students have it, why, and the rubric lines changed.
    """
    checks: dict[str, list[str]] = {}
    students: dict[str, int] = {}
    for reasons, _ in judged:
        for check, why in reasons.items():
            checks.setdefault(check, [])
            checks[check] += [reason for reason in why if reason not in checks[check]]
            students[check] = students.get(check, 0) + 1
    old = next((data for _, data in judged if data), None)
    if checks:
        raise RescoreRefused(checks, students, rubric_lines(old, rubric.data) if old else [], out, given)
