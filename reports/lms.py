"""Grades as the file each LMS imports, one row per roster student (graders.term.roster.Joined).

Each format follows its LMS's documented import:
- Canvas, "How do I import grades in the Gradebook?"
  (https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807):
  `Student, ID, SIS User ID, SIS Login ID, Section`, then the assignment as `Name (id)`; a header without
  the id makes Canvas create a new assignment.
- Moodle, "Grade import" (https://docs.moodle.org/en/Grade_import): any CSV with a header; in the import
  form, the column of the user's identifier is mapped to email address or ID number, the grade column to
  the grade item, and a feedback column to its feedback.
- Blackboard Learn (Original), "Work offline with grade data"
  (https://help.blackboard.com/Learn/Instructor/Original/Grade/Grading_Tasks/Work_Offline_With_Grade_Data):
  `Username` and the column, every value quoted; a header with the Grade Center's `|column id` updates
  that column, one without creates a new one.
- Brightspace, "Importing grades" (https://community.d2l.com/brightspace/kb/articles/3538-importing-grades):
  `OrgDefinedId` and/or `Username`, `<Item> Points Grade`, `End-of-Line Indicator`; ids and the end of
  each line carry the `#` of Brightspace's own exports (https://kb.wisc.edu/page.php?id=4330).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from graders.term.grades import StudentGrade
from graders.term.roster import Joined, normalise_id

ZERO, EMPTY = "zero", "empty"  # what a roster student without a submission gets


@dataclass(frozen=True)
class Assignment:
    name: str  # the LMS's name of the assignment ("HW3")
    lms_id: str = ""  # Canvas's assignment id, Blackboard's column id ("" when not known)


@dataclass(frozen=True)
class LmsFormat:
    name: str
    id_column: str  # the roster column joined with the students' ids by default
    identity: tuple[str, ...]  # roster columns written in front of the grade (empty when the roster lacks one)
    required_any: tuple[str, ...]  # at least one of these must be in the roster: the LMS matches students on it


FORMATS = {
    "canvas": LmsFormat("canvas", "SIS User ID", ("Student", "ID", "SIS User ID", "SIS Login ID", "Section"),
                        ("ID", "SIS User ID", "SIS Login ID")),
    "moodle": LmsFormat("moodle", "ID number", (), ("Email address", "ID number")),
    "blackboard": LmsFormat("blackboard", "Username", ("Username",), ("Username",)),
    "brightspace": LmsFormat("brightspace", "OrgDefinedId", ("OrgDefinedId", "Username"), ("OrgDefinedId", "Username")),
}


def points(grade: StudentGrade | None, missing: str) -> str:
    """The grade as the LMS reads it: the total to 2 decimals; a student without a submission "0" or ""."""
    if grade is None:
        return "0" if missing == ZERO else ""
    return f"{round(grade.total, 2):g}"


def lms_file(lms: str, joined: Joined, assignment: Assignment, *, missing: str, key: str = "",
             roster_columns: tuple[str, ...] = ()) -> str:
    """The import file of `lms` ("canvas", "moodle", "blackboard" or "brightspace") as text.

    Args:
        key: Moodle: the roster column written as the user's identifier (default "Email address" when the
            roster has it, else "ID number").
        roster_columns: the roster's columns: an assignment column already there (an LMS's own export) is
            written under the same header, so the import updates it.
    """
    writer = {"canvas": _canvas, "moodle": _moodle, "blackboard": _blackboard, "brightspace": _brightspace}[lms]
    header, rows, quote_all = writer(joined, assignment, missing, key, roster_columns)
    buffer = io.StringIO()
    out = csv.writer(buffer, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\r\n")
    out.writerow(header)
    out.writerows(rows)
    return buffer.getvalue()


def _canvas(joined, assignment, missing, key, columns):
    identity = FORMATS["canvas"].identity
    column = _existing(columns, rf"{re.escape(assignment.name)} \(\d+\)") or \
        (f"{assignment.name} ({assignment.lms_id})" if assignment.lms_id else assignment.name)
    rows = [[row.get(name, "") for name in identity] + [points(grade, missing)] for row, grade in joined.rows]
    return [*identity, column], rows, False


def _moodle(joined, assignment, missing, key, columns):
    key = key or ("Email address" if "Email address" in columns else "ID number")
    rows = [[row.get(key, ""), points(grade, missing), _feedback(grade)] for row, grade in joined.rows]
    return [key, assignment.name, f"{assignment.name} feedback"], rows, False


def _blackboard(joined, assignment, missing, key, columns):
    column = _existing(columns, rf"{re.escape(assignment.name)} \[.*") or \
        (f"{assignment.name} |{assignment.lms_id}" if assignment.lms_id else assignment.name)
    rows = [[normalise_id(row.get("Username", "")), points(grade, missing)] for row, grade in joined.rows]
    return ["Username", column], rows, True


def _brightspace(joined, assignment, missing, key, columns):
    keys = [name for name in FORMATS["brightspace"].identity if name in columns]
    rows = [[_hashed(row.get(name, "")) for name in keys] + [points(grade, missing), "#"] for row, grade in joined.rows]
    return [*keys, f"{assignment.name} Points Grade", "End-of-Line Indicator"], rows, False


def _existing(columns: tuple[str, ...], pattern: str) -> str | None:
    return next((column for column in columns if re.fullmatch(pattern, column)), None)


def _hashed(value: str) -> str:
    value = normalise_id(value)
    return f"#{value}" if value else ""


def _feedback(grade: StudentGrade | None) -> str:
    """The student's feedback: each mark, override and penalty with its reason (the TA's to-do list stays out)."""
    return "; ".join(grade.reasons(pending=False)) if grade else ""


def not_on_roster_file(grades: tuple[StudentGrade, ...]) -> str:
    """The submissions whose student is not on the roster: id, total, max, status (never dropped)."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(["id", "total", "max", "status", "notes"])
    out.writerows([g.student, f"{round(g.total, 2):g}", f"{g.max:g}", g.status, "; ".join(g.reasons())]
                  for g in grades)
    return buffer.getvalue()
