"""The report's view of a grading result: what the template draws, already ordered and classified.

Works from the typed result (a results file is read back with `from_json`, which gives every field
an earlier version left out its default); each check's category is the one stored with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graders.core.isolation import PROCESS
from graders.core.results import CheckResult, GradingResult, QuestionResult, default_title
from graders.core.trusted import CHECKED_BY_TA
from reports.details import Details, LayerRow, check_details, plain_text

STATUS_ORDER = {"error": 0, "failed": 1, "passed": 2, "skipped": 3}
EXPANDED = frozenset({"error", "failed"})  # these start open; the others are collapsed
HEADLINE_CHARS = 160
BY_TA_LABEL = "TA's grading"  # a kit's check of an answer that does not depend on the seed


@dataclass(frozen=True)
class CheckView:
    id: str
    title: str  # the check in words; the id is shown beside it, smaller
    label: str  # the status as shown: passed, failed, error, skipped, not attempted, not graded
    status: str
    score: float
    max_score: float
    hidden: bool
    headline: str
    message: str  # the full message, only when the headline does not already say it all
    expanded: bool
    details: Details

    @property
    def has_body(self) -> bool:
        return bool(self.message or self.details.layer_row or self.details.shown_in_body)


@dataclass(frozen=True)
class QuestionView:
    id: str
    title: str
    score: float
    max_score: float
    percent: float
    counts: dict
    checks: list[CheckView]
    layer_rows: list[LayerRow]
    not_attempted: str  # why the question reads as not attempted, or ""


def report_view(result: GradingResult) -> dict:
    """Everything the template needs, from a grading's result.

    The expected values of answers that do not depend on the seed are shown in a TA's hidden run only:
    a self-check's report, and the kit's, are the student's to see.
    """
    load, dataset = result.load or {}, result.dataset or {}
    show_answers = shows_answers(result)
    questions = [question_view(q, show_answers=show_answers) for q in result.questions]
    kit = result.kit or {}
    return {
        "show_answers": show_answers,
        "kit": {"name": plain_text(kit.get("name", "")), "version": plain_text(kit.get("version", ""))} if kit else {},
        "checked_by_ta": sum(1 for q in result.questions for c in q.checks if c.cause == CHECKED_BY_TA),
        "submission": str(result.submission),
        "score": result.score,
        "max_score": result.max_score,
        "percent": percent(result.score, result.max_score),
        "hidden": result.hidden,
        "hidden_skipped": sum(1 for q in questions for c in q.checks if c.hidden and c.status == "skipped"),
        "partial": result.partial,
        "graded_questions": [plain_text(q) for q in result.graded_questions],
        "questions": questions,
        "isolation": str(result.isolation),
        # A kit runs the student's own code on the student's machine: said once, plainly, never as an alarm.
        "isolation_warning": not result.isolation.confined and not kit,
        "plain_process": not result.isolation.confined and bool(kit) and result.isolation.level == PROCESS,
        "unconfined_root": result.isolation.unconfined_root and not kit,
        "load_error": plain_text(load["error"]) if load.get("error") else "",
        "problems": [(plain_text(p.get("origin", "")), plain_text(p.get("message", "")))
                     for p in _dicts(load.get("problems"))],
        "conflicts": [(plain_text(name), ", ".join(map(plain_text, origins)) if isinstance(origins, list)
                       else plain_text(origins)) for name, origins in (load.get("conflicts") or {}).items()],
        "skipped": [{"origin": plain_text(s.get("origin", "")), "source": plain_text(s.get("source", "")),
                     "reason": plain_text(s.get("reason", "")),
                     "names": ", ".join(map(plain_text, s.get("names") or []))} for s in _dicts(load.get("skipped"))],
        "files": [plain_text(f) for f in load.get("files") or []],
        # In full: the harness already caps each answer, and a TA grades all of it.
        "answers": [(plain_text(key), str(text)) for key, text in (result.answers or {}).items()],
        "dataset": {"source": plain_text(dataset.get("source", "unknown")),
                    "n_train": plain_text(dataset.get("n_train", "?")), "n_test": plain_text(dataset.get("n_test", "?"))},
        "seed": "" if result.hidden else plain_text(result.seed),  # a hidden run's seed is the TA's
        "duration_s": float(result.duration_s or 0.0),
        "versions": [(plain_text(name), plain_text(version)) for name, version in (result.versions or {}).items()],
    }


def shows_answers(result: GradingResult) -> bool:
    """Whether a report of `result` may show the answers that do not depend on the seed: a TA's hidden run."""
    return bool(result.hidden) and not result.kit


def question_view(question: QuestionResult, *, show_answers: bool = False) -> QuestionView:
    """A question's checks with failed ones first (stable within a status) and its layer table."""
    checks = sorted((check_view(c, show_answers=show_answers) for c in question.checks),
                    key=lambda check: STATUS_ORDER.get(check.status, len(STATUS_ORDER)))
    rows = sorted((c.details.layer_row for c in checks if c.details.layer_row), key=lambda row: natural_key(row.check_id))
    counts = {status: sum(1 for c in checks if c.status == status) for status in STATUS_ORDER}
    return QuestionView(question.id, question.title, question.score, question.max_score,
                        percent(question.score, question.max_score), counts, checks, rows,
                        plain_text(question.not_attempted))


def check_view(check: CheckResult, *, show_answers: bool = False) -> CheckView:
    """A check as the report shows it: unanswered and not-loaded checks (said once per question or at the top)
    are labelled by their category and start collapsed; a kit's check of a seed-independent answer says where
    it is checked."""
    message = plain_text(check.message or "")
    headline = message.strip().splitlines()[0] if message.strip() else ""
    if len(headline) > HEADLINE_CHARS:
        headline = headline[:HEADLINE_CHARS] + "…"
    full = message if message.strip() != headline else ""
    label = BY_TA_LABEL if check.cause == CHECKED_BY_TA else check.category
    return CheckView(check.id, plain_text(check.title or default_title(check.id)), label, check.status,
                     float(check.score), float(check.max_score), bool(check.hidden), headline, full,
                     check.status in EXPANDED and check.category == check.status,
                     check_details(check.id, check.shown_details, show_answer=show_answers))


def percent(score: float, max_score: float) -> float:
    return round(100.0 * score / max_score, 1) if max_score > 0 else 0.0


def natural_key(text: str) -> list:
    """'q5.table.layer10' after 'q5.table.layer9'."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


def _dicts(values) -> list[dict]:
    return [v for v in values or [] if isinstance(v, dict)]
