"""Grading results as dataclasses, and their JSON form (the contract of ../shared/DESIGN.md).

Every renderer (terminal, HTML report, Gradescope, gradebook, class page) takes these objects; a
results file is read back once, with `from_json`. A check's status and category are decided when
its result is made and stored with it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

from graders.core.isolation import Isolation

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
STATUSES = (PASSED, FAILED, ERROR, SKIPPED)  # every value a check's `status` can take
# How a check counts: its status, with two kinds of failure told apart (errors.SubmissionError.category).
NOT_ATTEMPTED, NOT_GRADED = "not attempted", "not graded"
CATEGORIES = (PASSED, FAILED, ERROR, NOT_ATTEMPTED, NOT_GRADED, SKIPPED)
# Results written before the category was stored: the causes that meant "no answer yet" / "not loaded".
_UNANSWERED_CAUSES = frozenset({"NotAttempted", "Unanswered", "MissingName"})


def default_title(check_id: str) -> str:
    """"q5.same_padding.strided" -> "same padding, strided": the id in words, for people."""
    return ", ".join(part.replace("_", " ") for part in check_id.split(".")[1:]) or check_id


@dataclass
class CheckResult:
    """One rubric check: its outcome, the points it earned and a message for the student."""

    id: str
    status: str
    score: float
    max_score: float
    message: str = ""
    hidden: bool = False  # a hidden check: Gradescope shows it only after publishing
    details: dict = field(default_factory=dict)  # structured extras for reports (diagnoses, cells)
    duration_s: float = 0.0
    title: str = ""  # the check in words ("same padding, strided"); the id is its key
    cause: str = ""  # the error class of a failed check (CheckFailed, NotAttempted, CallTimeout, ...)
    category: str = ""  # one of CATEGORIES, decided with the status (made from it when not given)
    observations: dict = field(default_factory=dict)  # what the check measured, for judging it again
    judged: dict = field(default_factory=dict)  # what its judge added for the report (thresholds, the diagnosis)

    def __post_init__(self) -> None:
        if not self.category:
            self.category = _category_of_old(self.status, self.cause)

    @property
    def shown_details(self) -> dict:
        """What the report shows besides the message: the details observed, then those judged."""
        return {**self.details, **self.judged}


def _category_of_old(status: str, cause: str) -> str:
    """The category of a result that was made without one (a results file of an earlier version)."""
    if status != FAILED:
        return status
    if cause == "NotLoaded":
        return NOT_GRADED
    return NOT_ATTEMPTED if cause in _UNANSWERED_CAUSES else FAILED


@dataclass
class QuestionResult:
    id: str
    title: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(check.score for check in self.checks)

    @property
    def max_score(self) -> float:
        # Skipped checks (hidden ones in a student's run) are not part of the total.
        return sum(check.max_score for check in self.checks if check.status != SKIPPED)

    @property
    def not_attempted(self) -> str:
        """Why the question reads as not attempted (its stubs raise, its constants are placeholders), or ""."""
        graded = [check for check in self.checks if check.status != SKIPPED]
        if not graded or any(check.category != NOT_ATTEMPTED for check in graded):
            return ""
        stubbed = next((c for c in graded if c.cause == "NotAttempted"), graded[0])
        return stubbed.message.splitlines()[0] if stubbed.message else "no answer"


@dataclass
class GradingResult:
    submission: str
    seed: int
    hidden: bool
    isolation: Isolation  # a string is read with Isolation.parse
    dataset: dict
    duration_s: float
    questions: list[QuestionResult] = field(default_factory=list)
    load: dict = field(default_factory=dict)  # files, skipped statements, problems, conflicts
    answers: dict = field(default_factory=dict)  # free-text ANSWERS, for manual grading
    versions: dict = field(default_factory=dict)
    worker: dict = field(default_factory=dict)  # starts, load seconds, peak RSS of the sandbox worker
    graded_questions: list[str] = field(default_factory=list)
    partial: bool = False  # only some questions or checks were graded (-k, --questions): the total is partial
    error: str = ""  # the grading itself failed (a batch's crash or timeout): no check ran
    profile: dict = field(default_factory=dict)  # where the grading's seconds went (see GradingSession.profile)
    rubric: dict = field(default_factory=dict)  # the rubric it was judged under: {"path", "sha256", "data"}
    kit: dict = field(default_factory=dict)  # a student kit's grading (public checks only): its name, version

    def __post_init__(self) -> None:
        if isinstance(self.isolation, str):
            self.isolation = Isolation.parse(self.isolation)

    @classmethod
    def unloadable(cls, submission: str, message: str, *, seed: int, hidden: bool) -> "GradingResult":
        """The result of a grading that produced none of its own (it crashed or timed out): score 0."""
        return cls(submission=submission, seed=seed, hidden=hidden, isolation=Isolation("unknown"), dataset={},
                   duration_s=0.0, error=message, load={"error": message})

    @property
    def score(self) -> float:
        return sum(question.score for question in self.questions)

    @property
    def max_score(self) -> float:
        return sum(question.max_score for question in self.questions)


_CHECK_FIELDS = fields(CheckResult)


def to_json(result: GradingResult) -> dict:
    """The results JSON: the design's fields first, in the design's order, then the extras."""
    return {
        "submission": result.submission,
        "score": result.score,
        "max_score": result.max_score,
        "hidden": result.hidden,
        "seed": result.seed,
        "isolation": str(result.isolation),
        "dataset": result.dataset,
        "duration_s": round(result.duration_s, 3),
        "questions": [
            {
                "id": q.id,
                "title": q.title,
                "score": q.score,
                "max_score": q.max_score,
                "not_attempted": q.not_attempted,
                # Each check's fields as they are (observations and details are plain data already): a deep
                # copy (dataclasses.asdict) of a class's observations costs seconds in a rescore.
                "checks": [{f.name: getattr(check, f.name) for f in _CHECK_FIELDS} for check in q.checks],
            }
            for q in result.questions
        ],
        "graded_questions": result.graded_questions,
        "partial": result.partial,
        "load": result.load,
        "answers": result.answers,
        "versions": result.versions,
        "worker": result.worker,
        **({"profile": result.profile} if result.profile else {}),
        **({"rubric": result.rubric} if result.rubric else {}),
        **({"kit": result.kit} if result.kit else {}),
        **({"error": result.error} if result.error else {}),
    }


def from_json(data: dict) -> GradingResult:
    """Rebuild a GradingResult from `to_json`'s output (the computed totals are recomputed).

    A field that an earlier version, or a grading that crashed, left out takes its default.
    """
    known = {f.name for f in fields(CheckResult)}
    questions = [
        QuestionResult(id=str(q.get("id", "?")), title=str(q.get("title") or q.get("id", "?")),
                       checks=[CheckResult(**{key: value for key, value in c.items() if key in known})
                               for c in q.get("checks", [])])
        for q in data.get("questions", [])
    ]
    extras = {key: data.get(key) or {} for key in ("dataset", "load", "answers", "versions", "worker", "profile",
                                                      "rubric", "kit")}
    return GradingResult(submission=str(data.get("submission", "")), seed=data.get("seed", 0),
                         hidden=bool(data.get("hidden")), isolation=Isolation.parse(str(data.get("isolation") or
                                                                                        "unknown")),
                         duration_s=float(data.get("duration_s") or 0.0), questions=questions, **extras,
                         graded_questions=list(data.get("graded_questions", [])), partial=bool(data.get("partial")),
                         error=str(data.get("error", "")))


def read_json(path: Path | str) -> GradingResult | None:
    """The results file at `path`, or None when it is missing or not a results JSON."""
    try:
        return from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def write_json(result: GradingResult, path: Path | str, *, private: bool = False) -> None:
    """Write the results JSON atomically, so a reader never sees half a file.

    Args:
        private: readable by its owner alone (0600): a class's results record its (secret) seed.
    """
    write_text_atomically(Path(path), json.dumps(to_json(result), indent=2, default=str) + "\n", private=private)


def write_text_atomically(path: Path, text: str, *, private: bool = False) -> None:
    """Write `text` to `path` through a temporary file and a rename, with the usual permissions
    (0644 under the common umask; mkstemp's own 0600 would hide a report from its reader), or 0600 when
    `private` (never readable by others, not even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temporary, 0o600 if private else 0o666 & ~_umask())
    os.replace(temporary, path)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
