"""OUT/history/: each run's previous gradebook, the rubrics the class was judged under, and what each run changed.

    OUT/grades.json                         the grades as the last run left them (changes.class_state)
    OUT/history/rubrics/<sha12>.toml        the text of every rubric the class was judged under
    OUT/history/<NNN>-<when>-<command>/
        gradebook-<sha12>.csv               the gradebook before this run, judged under rubric <sha12>
        grades.json                         the state before this run
        changes.json, changes.csv           what this run changed, student by student, and why

A run that changes nothing keeps nothing: the last change set stays the last.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from graders.core.results import write_text_atomically
from graders.term.changes import ChangeSet

STATE_FILE = "grades.json"
HISTORY = "history"
RUBRICS = "rubrics"
_RUN = re.compile(r"^(\d{3,})-")


def read_state(out: Path) -> dict | None:
    """The grades the last run left in `out`, or None (no run yet, or an unreadable file)."""
    try:
        state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("students"), dict) else None


def write_state(out: Path, state: dict) -> None:
    write_text_atomically(out / STATE_FILE, json.dumps(state, indent=1) + "\n")


def keep_rubric(out: Path, *, text: str, sha256: str) -> Path:
    """Keep the text of a rubric the class is judged under (once per content)."""
    path = out / HISTORY / RUBRICS / f"{sha256[:12]}.toml"
    if not path.exists():
        write_text_atomically(path, text)
    return path


def record_run(out: Path, changes: ChangeSet, *, previous: dict) -> Path:
    """Keep the previous gradebook and state, and write this run's changes; return the run's folder."""
    history = out / HISTORY
    number = 1 + max((int(m.group(1)) for p in history.glob("*") if (m := _RUN.match(p.name))), default=0)
    stamp = re.sub(r"[^0-9T]", "", changes.when.split(".")[0].split("+")[0])[:15]
    folder = history / f"{number:03d}-{stamp}-{changes.command}"
    folder.mkdir(parents=True, exist_ok=True)
    gradebook = out / "gradebook.csv"
    if gradebook.exists():
        sha = previous.get("rubric", {}).get("sha256", "")[:12] or "unknown"
        write_text_atomically(folder / f"gradebook-{sha}.csv", gradebook.read_text(encoding="utf-8"))
    write_text_atomically(folder / STATE_FILE, json.dumps(previous, indent=1) + "\n")
    write_text_atomically(folder / "changes.json", json.dumps(changes.to_json(), indent=1) + "\n")
    write_text_atomically(folder / "changes.csv", changes_csv(changes))
    return folder


def change_sets(out: Path) -> list[ChangeSet]:
    """Every run's changes kept in `out`, oldest first."""
    runs = sorted((p for p in (out / HISTORY).glob("*") if _RUN.match(p.name) and (p / "changes.json").exists()),
                  key=lambda p: int(_RUN.match(p.name).group(1)))
    sets = []
    for run in runs:
        try:
            sets.append(ChangeSet.from_json(json.loads((run / "changes.json").read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged record is skipped, never fatal: the grades themselves are in results.json
    return sets


def changes_csv(changes: ChangeSet) -> str:
    """One row per changed item: student, total before, total after, item, before, after, why."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "total_before", "total_after", "item", "before", "after", "why"])
    for student in changes.students:
        for item in student.items:
            writer.writerow([student.student, _number(student.total_before), _number(student.total_after),
                             item.item, item.before, item.after, item.why])
    return buffer.getvalue()


def _number(value) -> str:
    return "" if value is None else f"{value:g}"
