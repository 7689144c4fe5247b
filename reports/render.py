"""The self-contained HTML report of one grading result (no external CSS, JS or fonts)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from graders.harness.results import GradingResult, to_json, write_text_atomically

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # everything from a submission is escaped: a student's text cannot inject markup
    undefined=jinja2.StrictUndefined,
)


def render_report(result: GradingResult) -> str:
    """Render `result` as one HTML page; failed checks are listed first and expanded."""
    data = to_json(result)
    order = {"error": 0, "failed": 1, "passed": 2, "skipped": 3}
    for question in data["questions"]:
        question["checks"].sort(key=lambda check: order.get(check["status"], 9))
    return _ENVIRONMENT.get_template("report.html.j2").render(result=data)


def write_report(result: GradingResult, path: Path | str) -> None:
    """Render `result` and write it to `path` (folders are created)."""
    write_text_atomically(Path(path), render_report(result))
