"""The similarity report as HTML: per question the pairs above the threshold, both codes side by side.

The class page includes the section with `{% from "similarity.html.j2" import similarity_section %}`
and `{{ similarity_section(similarity_view(report)) }}`; `write_similarity_page` writes it as a page
of its own. Student code and ids are text, escaped by Jinja's autoescaping; matched lines are
marked with a CSS class (the pages' Content-Security-Policy allows no script).
"""

from __future__ import annotations

from pathlib import Path

from graders.core.results import write_text_atomically
from graders.similarity.report import MatchedPair, QuestionReport, SimilarityReport, line_ranges, write_csv
from reports.render import _ENVIRONMENT

TEMPLATE = "similarity.html.j2"


def similarity_view(report: SimilarityReport) -> dict:
    """What the similarity section shows (plain dicts and lists for the template)."""
    settings = report.settings
    return {"threshold_pct": round(100 * settings.threshold), "students": len(report.students),
            "duration_s": round(report.duration_s, 1),
            "not_loaded": [{"id": student, "why": why} for student, why in sorted(report.not_loaded.items())],
            "questions": [_question_view(q, settings.max_pairs_shown) for q in report.questions]}


def render_similarity_page(report: SimilarityReport) -> str:
    """The standalone page (similarity.html)."""
    return _ENVIRONMENT.get_template(TEMPLATE).render(page=similarity_view(report))


def write_similarity_page(report: SimilarityReport, path: Path | str) -> Path:
    """Write the standalone page to `path`; return it."""
    path = Path(path)
    write_text_atomically(path, render_similarity_page(report))
    return path


def write_similarity(report: SimilarityReport, out: Path | str) -> tuple[Path, Path]:
    """Write out/similarity.csv and out/similarity.html (a self-contained page); return their paths."""
    out = Path(out)
    return write_csv(report, out / "similarity.csv"), write_similarity_page(report, out / "similarity.html")


def _question_view(question: QuestionReport, max_pairs: int) -> dict:
    return {"id": question.question, "title": question.title,
            "pairs": [_pair_view(pair, question) for pair in question.pairs[:max_pairs]],
            "flagged": len(question.pairs), "hidden": max(0, len(question.pairs) - max_pairs),
            "compared": len(question.compared), "too_short": sorted(question.too_short),
            "too_common": sorted(question.too_common), "not_answered": len(question.not_answered),
            "not_compared": [{"id": s, "why": why} for s, why in sorted(question.not_compared.items())]}


def _pair_view(pair: MatchedPair, question: QuestionReport) -> dict:
    return {"key": f"{pair.question}:{pair.a}:{pair.b}", "a": pair.a, "b": pair.b, "score": f"{pair.score:.3f}",
            "score_pct": round(100 * pair.score), "shared": pair.shared,
            "sides": [_side(pair.a, question.code[pair.a], pair.lines_a),
                      _side(pair.b, question.code[pair.b], pair.lines_b)]}


def _side(student: str, code: str, matched: tuple[int, ...]) -> dict:
    """One student's code as numbered lines; a run of matched lines is one region, numbered from 1."""
    marked, lines, region = set(matched), [], 0
    for number, text in enumerate(code.splitlines(), start=1):
        match = number in marked
        if match and (number - 1) not in marked:
            region += 1
        lines.append({"n": number, "text": text, "match": match, "region": region if match else 0})
    return {"student": student, "lines": line_ranges(matched), "regions": region, "code": lines}
