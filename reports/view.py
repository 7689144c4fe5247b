"""The report's view of a results JSON: what the template draws, already ordered and classified.

Works from the JSON form (`to_json`), so a report can be rendered from a results file as well
as from a finished run, and every field a grader or a submission may have left out has a default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graders.core.results import UNANSWERED_CAUSES, default_title
from reports.details import Details, LayerRow, check_details, plain_text

STATUS_ORDER = {"error": 0, "failed": 1, "passed": 2, "skipped": 3}
EXPANDED = frozenset({"error", "failed"})  # these start open; the others are collapsed
CONFINED_ISOLATION = "bubblewrap"  # "bubblewrap+cgroup" too: the level comes before any "+extra"
UNCONFINED_ROOT = "unconfined root"  # graders.sandbox.isolation.UNCONFINED_ROOT: "process (unconfined root)"
HEADLINE_CHARS = 160


NOT_GRADED_CAUSE = "NotLoaded"  # errors.NotLoaded: the submission did not load, said once at the top


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


def report_view(data: dict) -> dict:
    """Everything the template needs, from the results JSON `data`."""
    load = data.get("load") or {}
    isolation = str(data.get("isolation") or "unknown")
    dataset = data.get("dataset") or {}
    questions = [question_view(q) for q in data.get("questions", [])]
    score, max_score = float(data.get("score", 0)), float(data.get("max_score", 0))
    return {
        "submission": str(data.get("submission", "")),
        "score": score,
        "max_score": max_score,
        "percent": percent(score, max_score),
        "hidden": bool(data.get("hidden")),
        "hidden_skipped": sum(1 for q in questions for c in q.checks if c.hidden and c.status == "skipped"),
        "partial": bool(data.get("partial")),
        "graded_questions": [plain_text(q) for q in data.get("graded_questions") or []],
        "questions": questions,
        "isolation": isolation,
        "isolation_warning": isolation.partition("+")[0].split(" ")[0] != CONFINED_ISOLATION,
        "unconfined_root": UNCONFINED_ROOT in isolation,
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
        "answers": [(plain_text(key), str(text)) for key, text in (data.get("answers") or {}).items()],
        "dataset": {"source": plain_text(dataset.get("source", "unknown")),
                    "n_train": plain_text(dataset.get("n_train", "?")), "n_test": plain_text(dataset.get("n_test", "?"))},
        "seed": "" if data.get("hidden") else plain_text(data.get("seed", "")),  # a hidden run's seed is the TA's
        "duration_s": float(data.get("duration_s") or 0.0),
        "versions": [(plain_text(name), plain_text(version)) for name, version in (data.get("versions") or {}).items()],
    }


def question_view(question: dict) -> QuestionView:
    """A question's checks with failed ones first (stable within a status) and its layer table."""
    checks = sorted((check_view(c) for c in question.get("checks", [])),
                    key=lambda check: STATUS_ORDER.get(check.status, len(STATUS_ORDER)))
    rows = sorted((c.details.layer_row for c in checks if c.details.layer_row), key=lambda row: natural_key(row.check_id))
    score, max_score = float(question.get("score", 0)), float(question.get("max_score", 0))
    counts = {status: sum(1 for c in checks if c.status == status) for status in STATUS_ORDER}
    return QuestionView(str(question.get("id", "?")), str(question.get("title", "")), score, max_score,
                        percent(score, max_score), counts, checks, rows, plain_text(question.get("not_attempted") or ""))


def check_view(check: dict) -> CheckView:
    status = str(check.get("status", "error"))
    message = plain_text(check.get("message") or "")
    headline = message.strip().splitlines()[0] if message.strip() else ""
    if len(headline) > HEADLINE_CHARS:
        headline = headline[:HEADLINE_CHARS] + "…"
    full = message if message.strip() != headline else ""
    check_id = str(check.get("id", "?"))
    label = _label(status, str(check.get("cause") or ""))
    return CheckView(check_id, plain_text(check.get("title") or default_title(check_id)), label, status, float(check.get("score", 0)),
                     float(check.get("max_score", 0)), bool(check.get("hidden")), headline, full,
                     status in EXPANDED and label == status, check_details(check_id, check.get("details") or {}))


def _label(status: str, cause: str) -> str:
    """Unanswered and not-loaded checks are said once per question or at the top: they start collapsed."""
    if status != "failed":
        return status
    if cause == NOT_GRADED_CAUSE:
        return "not graded"
    return "not attempted" if cause in UNANSWERED_CAUSES else status


def percent(score: float, max_score: float) -> float:
    return round(100.0 * score / max_score, 1) if max_score > 0 else 0.0


def natural_key(text: str) -> list:
    """'q5.table.layer10' after 'q5.table.layer9'."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


def _dicts(values) -> list[dict]:
    return [v for v in values or [] if isinstance(v, dict)]
