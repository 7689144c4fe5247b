"""The self-contained HTML report of one grading result (no external CSS, JS or fonts).

The page carries a Content-Security-Policy that allows no script and no network at all, on
top of Jinja's autoescaping: a student's text is shown as text and can run nothing.
"""

from __future__ import annotations

import html
from pathlib import Path

import jinja2

from graders.core.results import GradingResult, from_json, write_text_atomically
from reports.view import report_view

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # everything from a submission is escaped: a student's text cannot inject markup
    undefined=jinja2.StrictUndefined,
)


def render_report(result: GradingResult | dict, *, term: dict | None = None) -> str:
    """Render a result as one HTML page; a results JSON's content is read with `from_json` first.

    Failed checks come first in each question and start expanded; passed ones are collapsed.

    Args:
        term: the grade's term parts (reports.term.report_term_view): the marks given by hand, overrides,
            the late penalty and the grade's changes, shown with their reasons; None in a single grading.
    """
    typed = from_json(result) if isinstance(result, dict) else result
    return _ENVIRONMENT.get_template("report.html.j2").render(r={**report_view(typed), "term": term})


def compile_report_templates() -> None:
    """Compile the report's templates now: processes forked afterwards (a class's reports rendered in parallel)
    share them instead of each compiling its own."""
    for name in ("report.html.j2", "term.html.j2"):
        _ENVIRONMENT.get_template(name)


def write_report(result: GradingResult | dict, path: Path | str, *, term: dict | None = None) -> None:
    """Render `result` (with its term parts, if any) and write it to `path` (folders are created)."""
    write_text_atomically(Path(path), render_report(result, term=term))


def write_fallback_report(result: GradingResult, path: Path | str) -> None:
    """A plain page with the scores, for when the real report cannot be rendered (a grader bug)."""
    lines = [f"<li>{html.escape(q.id)}: {q.score:g} / {q.max_score:g}</li>" for q in result.questions]
    write_text_atomically(Path(path), "<!DOCTYPE html><meta charset='utf-8'><title>HW3 report</title>"
                          f"<h1>HW3: {result.score:g} / {result.max_score:g}</h1><ul>{''.join(lines)}</ul>"
                          "<p>The full report could not be rendered (a grader bug); the results JSON has every check.</p>")
