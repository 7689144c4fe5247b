"""Publish a class's grades into OUT after a batch, a rescore or a recheck: one step for all three.

From the students' judged results and the TA's marks: each student's grade (graders.term.grades),
the differences from what was published before, kept with the previous gradebook in OUT/history/
(graders.term.history), then every output: each student's report.html and gradescope.json (with the
marks, overrides, late penalty and the grade's changes, each with its reason), gradebook.csv,
index.html (with the last change set) and OUT/grades.json.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from graders.commands.outfolder import student_folder
from graders.core.results import GradingResult, write_text_atomically
from graders.core.rubric import Rubric
from graders.term.changes import ChangeSet, Rerun, class_state, differences
from graders.term.grades import StudentGrade, class_grades
from graders.term.history import change_sets, keep_rubric, read_state, record_run, write_state
from graders.term.marks import Marks
from graders.term.rules import term_rules
from reports.gradebook import write_gradebook
from reports.gradescope import write_gradescope
from reports.index import write_index
from reports.render import compile_report_templates, write_report
from reports.term import report_term_view

SIMILARITY_FILE = "similarity.json"  # the class page's similarity section, kept for a rescore (it reads no code)
KEEP = object()  # publish_class(similarity=KEEP): the section the last batch computed
SHOWN_STUDENTS = 40  # students listed in the terminal; changes.csv has them all
PARALLEL_FROM = 24  # students from which the reports are rendered in parallel processes


@dataclass
class Published:
    grades: list[StudentGrade]
    changes: ChangeSet | None  # None: nothing changed (or nothing was published before)
    history: Path | None  # the run's folder in OUT/history/, when it changed something
    first: bool = False  # nothing was published before: no differences to show

    def describe(self, *, limit: int = SHOWN_STUDENTS) -> str:
        """The change set for the terminal: the rubric lines changed, then each student changed and why."""
        if self.changes is None:
            return "grades published (the first time: nothing to compare)" if self.first else "no grade changed"
        lines = []
        if self.changes.rubric_lines:
            lines += ["rubric lines changed:", *(f"  {line}" for line in self.changes.rubric_lines)]
        changed = self.changes.students
        where = f" ({shown_path(self.history / 'changes.csv')})" if self.history else ""
        lines.append(f"{len(changed)} student{'s' if len(changed) != 1 else ''} changed{where}"
                     + (":" if changed else ""))
        for student in changed[:limit]:
            before = "-" if student.total_before is None else f"{student.total_before:g}/{student.max_before:g}"
            after = "-" if student.total_after is None else f"{student.total_after:g}/{student.max_after:g}"
            lines.append(f"  {student.student}  {before} -> {after}")
            lines += [f"      {item.item}  {item.before} -> {item.after}: {item.why}" for item in student.items]
        if len(changed) > limit:
            lines.append(f"  ... and {len(changed) - limit} more")
        return "\n".join(lines)


def shown_path(path: Path) -> str:
    """`path` from the current folder when it is under it (as the TA named OUT), else as it is."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def publish_class(out: Path, results: list[tuple[str, GradingResult | None]], *, rubric: Rubric, marks: Marks,
                  command: str, reruns: dict[str, Rerun] | None = None, similarity=KEEP) -> Published:
    """Grade, compare with what was published, keep the history, and write every output of the class.

    Args:
        results: (student, judged result or None) for every student of the class.
        command: "batch", "rescore" or "recheck": said in the history and on the class page.
        reruns: the students whose checks ran again in this run, and why.
        similarity: the class page's similarity section (reports.similarity.similarity_view), None for
            none, or KEEP for the one the last batch computed.

    Raises:
        ValueError: a submission time and a due date of which only one has a UTC offset.
    """
    out = Path(out)
    grades = class_grades(results, marks, term_rules(rubric.data, where=str(rubric.path)))
    when = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    state = class_state(grades, rubric_data=rubric.data, rubric_sha256=rubric.sha256, rubric_path=str(rubric.path),
                        marks_sha256=marks.sha256, command=command, when=when)
    previous = read_state(out)
    changes, folder = None, None
    if previous is not None:
        changes = differences(previous, state, reruns=reruns, when=when, command=command)
        if changes.students or changes.rubric_lines:
            folder = record_run(out, changes, previous=previous)
        else:
            changes = None
    _keep_rubric(out, rubric)
    history = change_sets(out)
    _write_students(out, results, grades, history)
    write_gradebook(out / "gradebook.csv", grades)
    write_index(out / "index.html", results, similarity=_similarity(out, similarity), grades=grades,
                changes=history[-1] if history else None)
    write_state(out, state)
    return Published(grades, changes, folder, first=previous is None)


def in_processes(function, jobs: list[tuple]) -> list:
    """`[function(*job) for job in jobs]`, in as many processes as this machine has cores (at most 4) for a large
    class: rendering and JSON are pure Python, so threads would not help. `function` must be module-level."""
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        return [function(*job) for job in jobs]
    chunks = [jobs[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(_run_chunk, [function] * workers, chunks))
    results = [None] * len(jobs)
    for i, chunk in enumerate(done):
        results[i::workers] = chunk
    return results


def _run_chunk(function, jobs: list[tuple]) -> list:
    return [function(*job) for job in jobs]


def _write_students(out: Path, results, grades: list[StudentGrade], history: list[ChangeSet]) -> None:
    """Each student's report.html and gradescope.json, with its grade's term parts."""
    compile_report_templates()
    in_processes(_write_student, [(student_folder(out, student), result, grade, history)
                                  for (student, result), grade in zip(results, grades) if result is not None])


def _write_student(folder: Path, result: GradingResult, grade: StudentGrade, history: list[ChangeSet]) -> None:
    write_report(result, folder / "report.html", term=report_term_view(grade, history))
    write_gradescope(result, folder / "gradescope.json", grade)


def _keep_rubric(out: Path, rubric: Rubric) -> None:
    """The rubric's own text when it is the file it was read from, else its data as JSON."""
    try:
        text = Path(rubric.path).read_text(encoding="utf-8")
    except OSError:
        text = None
    if text is None or hashlib.sha256(text.encode("utf-8")).hexdigest() != rubric.sha256:
        text = "# the rubric's data (its file is gone or changed since):\n# " + \
               json.dumps(rubric.data, default=str, sort_keys=True) + "\n"
    keep_rubric(out, text=text, sha256=rubric.sha256)


def _similarity(out: Path, similarity):
    path = out / SIMILARITY_FILE
    if similarity is KEEP:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    if similarity is None:
        path.unlink(missing_ok=True)
        return None
    write_text_atomically(path, json.dumps(similarity) + "\n")
    return similarity
