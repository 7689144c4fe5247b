"""The class overview of a batch: the score distribution, each check's failure rate, every report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from graders.harness.results import write_text_atomically
from reports.render import _ENVIRONMENT

BINS = 10


def index_view(students: list[tuple[str, dict | None]]) -> dict:
    """What index.html shows, from (student id, results JSON or None) pairs."""
    rows, failures, attempts = [], Counter(), Counter()
    for student, result in students:
        result = result or {}
        rows.append({"id": student, "score": result.get("score", 0.0), "max": result.get("max_score", 0.0),
                     "error": result.get("error", "" if result else "no results"),
                     "report": f"students/{student}/report.html"})
        for question in result.get("questions", []):
            for check in question["checks"]:
                if check["status"] != "skipped":
                    attempts[check["id"]] += 1
                    failures[check["id"]] += check["status"] != "passed"
    rates = sorted(({"id": c, "failed": failures[c], "of": attempts[c], "rate": failures[c] / attempts[c]}
                    for c in attempts), key=lambda item: (-item["rate"], item["id"]))
    return {"students": rows, "checks": rates, "histogram": histogram(rows)}


def histogram(rows: list[dict]) -> list[dict]:
    """Students per tenth of the maximum score, as bars of an inline SVG (no script)."""
    counts = [0] * BINS
    for row in rows:
        fraction = row["score"] / row["max"] if row["max"] else 0.0
        counts[min(BINS - 1, int(fraction * BINS))] += 1
    tallest = max(counts) or 1
    return [{"label": f"{10 * i}–{10 * (i + 1)}%", "count": count, "height": 150 * count / tallest}
            for i, count in enumerate(counts)]


def write_index(path: Path, students: list[tuple[str, dict | None]]) -> None:
    """Render index.html for a batch's output folder."""
    html = _ENVIRONMENT.get_template("index.html.j2").render(v=index_view(students))
    write_text_atomically(Path(path), html)
