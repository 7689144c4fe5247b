"""The self-contained HTML report of one grading result (no external CSS, JS or fonts).

The page carries a Content-Security-Policy that allows no script and no network at all, on
top of Jinja's autoescaping: a student's text is shown as text and can run nothing.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from graders.harness.results import GradingResult, to_json, write_text_atomically
from reports.view import report_view

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # everything from a submission is escaped: a student's text cannot inject markup
    undefined=jinja2.StrictUndefined,
)


def render_report(result: GradingResult | dict) -> str:
    """Render a result (a GradingResult or its results JSON) as one HTML page.

    Failed checks come first in each question and start expanded; passed ones are collapsed.
    """
    data = to_json(result) if isinstance(result, GradingResult) else result
    return _ENVIRONMENT.get_template("report.html.j2").render(r=report_view(data))


def write_report(result: GradingResult | dict, path: Path | str) -> None:
    """Render `result` and write it to `path` (folders are created)."""
    write_text_atomically(Path(path), render_report(result))
