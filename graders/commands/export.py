"""`hw3grade export OUT --lms canvas|moodle|blackboard|brightspace --roster ROSTER.csv`: the grades as the
LMS imports them (reports/lms.py), joined with the roster on the student id.

The grades exported are the ones published in OUT (what the class page and the reports show): a marks
file or a rubric changed since is refused until `hw3grade rescore OUT` publishes them. Roster students
without a submission are written too (an empty cell, or 0 with `--missing zero`); submissions whose
student is not on the roster are written apart (`<lms>-not-on-roster.csv`) and said, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graders.commands.outfolder import class_rubric, marks_path, stored_results
from graders.core.results import write_text_atomically
from graders.core.rubric import Rubric
from graders.term.grades import StudentGrade, class_grades
from graders.term.history import read_state
from graders.term.marks import read_marks
from graders.term.roster import Joined, RosterError, join, read_roster
from graders.term.rules import term_rules
from reports.lms import EMPTY, FORMATS, Assignment, lms_file, not_on_roster_file

EXPORT_FOLDER = "export"


@dataclass
class Exported:
    path: Path
    joined: Joined
    not_on_roster_path: Path | None
    pending: list[StudentGrade]  # graded students with manual items not marked yet

    def describe(self) -> str:
        rows = self.joined.rows
        graded = sum(1 for _, grade in rows if grade is not None)
        lines = [f"wrote {self.path}: {len(rows)} roster students, {graded} with a grade, "
                 f"{len(rows) - graded} without a submission"]
        if self.joined.not_on_roster:
            ids = ", ".join(grade.student for grade in self.joined.not_on_roster)
            lines.append(f"{len(self.joined.not_on_roster)} submission(s) not on the roster, NOT in the import file: "
                         f"{ids} (listed in {self.not_on_roster_path})")
        if self.pending:
            lines.append(f"{len(self.pending)} student(s) with items not marked yet (counted 0): "
                         + ", ".join(f"{g.student} ({' '.join(g.pending)})" for g in self.pending[:20]))
        return "\n".join(lines)


def export_grades(*, out: Path | str, lms: str, roster: str, missing: str = EMPTY, id_column: str | None = None,
                  key: str | None = None, assignment: str = "HW3", assignment_id: str | None = None,
                  export_path: str | None = None, marks: str | None = None) -> Exported:
    """Write the import file of `lms` for the class in `out`.

    Args:
        roster: the roster CSV (an LMS's own gradebook export works: its columns are reused).
        missing: "empty" or "zero": what a roster student without a submission gets.
        id_column: the roster column holding the students' ids (default: the LMS's usual one).
        key: Moodle: the roster column written as the user's identifier.
        assignment, assignment_id: the LMS's name of the assignment, and its id (Canvas) or column id (Blackboard).
        export_path: the file to write (default OUT/export/<lms>.csv).

    Raises:
        RosterError: the roster cannot be read, or lacks the columns the LMS matches students on.
        ValueError: the grades in OUT are not the published ones (marks or rubric changed since).
        FileNotFoundError: OUT has no published grades.
    """
    out = Path(out)
    form = FORMATS[lms]
    table = read_roster(roster, id_column=id_column or form.id_column)
    if not set(form.required_any) & set(table.columns) or (key and key not in table.columns):
        wanted = f"the column {key!r}" if key and key not in table.columns else f"one of {list(form.required_any)}"
        raise RosterError(f"{lms} matches students on {wanted}; the roster {roster} has {', '.join(table.columns)}")
    grades = published_grades(out, marks=marks)
    joined = join(table, grades)
    path = Path(export_path) if export_path else out / EXPORT_FOLDER / f"{lms}.csv"
    write_text_atomically(path, lms_file(lms, joined, Assignment(assignment, assignment_id or ""), missing=missing,
                                         key=key or "", roster_columns=table.columns))
    apart = None
    if joined.not_on_roster:
        apart = path.with_name(f"{path.stem}-not-on-roster.csv")
        write_text_atomically(apart, not_on_roster_file(joined.not_on_roster))
    return Exported(path, joined, apart, [g for g in grades if g.pending and g.status != "missing"])


def published_grades(out: Path, *, marks: str | None = None) -> list[StudentGrade]:
    """The grades as OUT publishes them: the stored results with the marks, under the class's rubric.

    Raises:
        FileNotFoundError: nothing published in OUT yet.
        ValueError: the marks file or the rubric changed since they were published.
    """
    state = read_state(out)
    if state is None:
        raise FileNotFoundError(f"{out} has no published grades (grades.json): run hw3grade batch first")
    rubric = Rubric.load(class_rubric(out, None))
    results = stored_results(out)
    marked = read_marks(marks_path(out, marks), students={s for s, _ in results},
                        manual=term_rules(rubric.data, where=str(rubric.path)).manual)
    stale = [what for what, now, then in (("the marks file", marked.sha256, state.get("marks_sha256", "")),
                                          ("the rubric", rubric.sha256, state.get("rubric", {}).get("sha256", "")))
             if now != then]
    if stale:
        raise ValueError(f"{' and '.join(stale)} changed since the grades in {out} were published: run "
                         f"hw3grade rescore {out} first, so that the LMS gets what the reports show")
    return class_grades(results, marked, term_rules(rubric.data, where=str(rubric.path)))
