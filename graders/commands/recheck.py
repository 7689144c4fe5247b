"""What a batch does with each student, and a recheck's results merged into the stored ones.

A batch brings OUT up to date with the least work (`plan_batch`): a new or changed submission, or any
after a change of the grader's code, is graded in full; a submission whose stored result can be judged
again under the rubric is only judged again (no worker); one whose rubric change alters what some
checks observe, or whose checks the TA names with `--recheck`, has only those checks run again, and the
new checks replace the old ones in its stored result (`merge_recheck`), which is then judged under the
rubric like the rest.
"""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from graders.core.results import GradingResult, QuestionResult, read_json
from graders.core.rubric import Rubric
from graders.harness.judgement import observation_changes, rejudge
from graders.submission.classfolder import Entry
from graders.term.changes import RERUN_BECAUSE, Rerun

FORCED = "re-run (--recheck)"


@dataclass
class BatchPlan:
    grade: list[Entry] = field(default_factory=list)  # graded in full
    recheck: dict[frozenset[str], list[Entry]] = field(default_factory=dict)  # the checks run again, by set
    rejudge: list[Entry] = field(default_factory=list)  # judged again from the stored observations
    unchanged: list[Entry] = field(default_factory=list)
    reruns: dict[str, Rerun] = field(default_factory=dict)  # why each student's checks ran again

    @property
    def rechecked(self) -> list[Entry]:
        return [entry for group in self.recheck.values() for entry in group]


def plan_batch(out: Path, entries: list[Entry], *, version: str, rubric: Rubric, content_hash,
               forced: tuple[str, ...] = ()) -> BatchPlan:
    """What to do with each submission (see the module's docstring).

    Args:
        version: the grader's version (its code; the rubric is judged per result).
        content_hash: path -> the hash of a submission's bytes.
        forced: check ids or globs to run again for every student (`--recheck`).

    Raises:
        ValueError: a `forced` pattern that matches no check of any stored result.
    """
    plan, matched = BatchPlan(), set()
    groups: dict[frozenset[str], list[Entry]] = defaultdict(list)
    for entry in entries:
        folder = out / "students" / entry.student_id
        meta, stored = _meta(folder), read_json(folder / "results.json")
        content = content_hash(entry.path)
        if meta.get("content") != content or meta.get("grader") != version or stored is None or stored.error:
            plan.grade.append(entry)
            plan.reruns[entry.student_id] = Rerun(_full_reason(meta, content, version))
            continue
        ids = [check.id for question in stored.questions for check in question.checks]
        chosen = {check for check in ids if any(fnmatch.fnmatchcase(check, pattern) for pattern in forced)}
        matched |= {pattern for pattern in forced if any(fnmatch.fnmatchcase(check, pattern) for check in ids)}
        needed = observation_changes(stored, rubric)
        if chosen or needed:
            groups[frozenset(chosen | set(needed))].append(entry)
            why = {check: FORCED for check in chosen} | {c: RERUN_BECAUSE + "; ".join(r) for c, r in needed.items()}
            plan.reruns[entry.student_id] = Rerun(FORCED if chosen else "re-run", frozenset(why), why)
        elif stored.rubric.get("sha256") != rubric.sha256:
            plan.rejudge.append(entry)
        else:
            plan.unchanged.append(entry)
    unmatched = [pattern for pattern in forced if pattern not in matched]
    if unmatched and not plan.grade:
        raise ValueError(f"--recheck {' '.join(unmatched)}: no check of the class's stored results matches")
    plan.recheck = dict(groups)
    return plan


def merge_recheck(stored: GradingResult, rechecked: GradingResult, rubric: Rubric) -> GradingResult:
    """`stored` with its checks replaced by those `rechecked` ran again, all judged under `rubric`."""
    new = {check.id: check for question in rechecked.questions for check in question.checks}
    questions = []
    for question in stored.questions:
        checks = [new.pop(check.id, check) for check in question.checks]
        added = [check_id for check_id in new if check_id.partition(".")[0] == question.id]
        checks += [new.pop(check_id) for check_id in added]
        questions.append(QuestionResult(question.id, question.title, checks))
    for question in rechecked.questions:  # a question the stored result did not have
        extra = [check for check in question.checks if check.id in new]
        if extra:
            questions.append(QuestionResult(question.id, question.title, extra))
    return rejudge(replace(stored, questions=questions), rubric)


def _meta(folder: Path) -> dict:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _full_reason(meta: dict, content: str, version: str) -> str:
    if not meta:
        return "graded"
    if meta.get("content") != content:
        return "re-graded: the submission changed"
    if meta.get("grader") != version:
        return "re-graded: the grader changed"
    return "re-graded: its stored result could not be judged again"
