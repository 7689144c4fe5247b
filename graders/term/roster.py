"""The class roster an LMS exports (a CSV with a header row), joined with the grades on the student id.

The roster's id column holds the ids `hw3grade batch` gives students (the first `_`-separated part of
each submission's name). Values exported with a leading `#` (Brightspace, to keep Excel from reading
them as numbers) match without it; Canvas's "Points Possible" row is not a student.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from graders.term.grades import StudentGrade


class RosterError(ValueError):
    """The roster cannot be read or joined; the message says what to fix."""


@dataclass(frozen=True)
class Roster:
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    id_column: str

    def student_id(self, row: dict[str, str]) -> str:
        return normalise_id(row.get(self.id_column, ""))


@dataclass(frozen=True)
class Joined:
    """The roster's students with their grades (None: no submission), and the grades of students not on it."""

    rows: tuple[tuple[dict[str, str], StudentGrade | None], ...]
    not_on_roster: tuple[StudentGrade, ...]

    @property
    def without_submission(self) -> list[dict[str, str]]:
        return [row for row, grade in self.rows if grade is None]


def normalise_id(value: str) -> str:
    return value.strip().lstrip("#").strip()


def read_roster(path: Path | str, *, id_column: str) -> Roster:
    """Read a roster CSV whose `id_column` holds the students' ids.

    Raises:
        RosterError: no such file, no such column (the message lists the columns), an empty or
            repeated id.
    """
    try:
        text = _decoded(Path(path).read_bytes())
    except OSError as error:
        raise RosterError(f"cannot read the roster {path}: {error.strerror or error}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=_dialect(text))
    columns = tuple((name or "").strip() for name in reader.fieldnames or ())
    rows = [{(key or "").strip(): (value or "") for key, value in row.items() if key is not None} for row in reader]
    if id_column not in columns:
        raise RosterError(f"the roster {path} has no column {id_column!r} (its columns: {', '.join(columns)}); "
                          "name the column holding the students' ids with --id-column")
    students = [row for row in rows if any(v.strip() for v in row.values()) and not _points_possible(row, columns)]
    roster = Roster(columns, tuple(students), id_column)
    ids = [roster.student_id(row) for row in students]
    empty = [str(number) for number, student in enumerate(ids, start=2) if not student]
    repeated = sorted({student for student in ids if student and ids.count(student) > 1})
    if empty or repeated:
        raise RosterError(f"the roster {path}: " + "; ".join(
            ([f"no {id_column} on line(s) {', '.join(empty)}"] if empty else []) +
            ([f"{id_column} repeated: {', '.join(repeated)}"] if repeated else [])))
    return roster


def join(roster: Roster, grades: list[StudentGrade]) -> Joined:
    """Each roster student with its grade (None: no submission), and apart the grades of students not on the roster."""
    by_id = {grade.student: grade for grade in grades}
    on_roster = {roster.student_id(row) for row in roster.rows}
    return Joined(tuple((row, by_id.get(roster.student_id(row))) for row in roster.rows),
                  tuple(grade for grade in grades if grade.student not in on_roster))


def _decoded(data: bytes) -> str:
    """The roster's text: UTF-16 with its byte-order mark (Blackboard's downloads), else UTF-8 (a BOM dropped).

    Raises:
        RosterError: neither.
    """
    try:
        return data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError("the roster is neither UTF-8 nor UTF-16 text: save it as CSV (UTF-8)") from None


def _dialect(text: str):
    """Commas, tabs (Blackboard's downloads) or semicolons, from the header line."""
    header = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=header.count) if header else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def _points_possible(row: dict[str, str], columns: tuple[str, ...]) -> bool:
    """Canvas's export has a "Points Possible" row (and in older ones, a "Muted" row) under its header."""
    first = row.get(columns[0], "").strip() if columns else ""
    return first in ("Points Possible", "Muted")
