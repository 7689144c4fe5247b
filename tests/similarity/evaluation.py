"""Detection and false alarms of the similarity report on the synthetic class, per disguise.

Each disguise is measured in its own class: every independent solution plus that disguise's
copies (one copy per original), so a family is two students, as copying usually is, and the
class-wide "common code" filter sees the independent solutions as they are.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from graders.similarity import find_similar
from graders.similarity.report import SimilarityReport
from tests.similarity.synthetic import INDEPENDENT, TEXTBOOK, Student


@dataclass
class DisguiseResult:
    """One disguise's copies in its class."""

    disguise: str
    copies: int = 0
    too_short: list[str] = field(default_factory=list)   # copies of code too short to compare (not counted)
    detected: list[str] = field(default_factory=list)    # at or above the threshold
    missed: list[tuple[str, float]] = field(default_factory=list)
    below_independent: list[tuple[str, float, float]] = field(default_factory=list)  # (copy, score, top independent)
    false_alarms: list[tuple[str, str, str, float]] = field(default_factory=list)    # independent pairs flagged
    top_independent: dict[str, float] = field(default_factory=dict)                  # per question
    independent_pairs: int = 0
    scores: list[float] = field(default_factory=list)

    @property
    def comparable(self) -> int:
        return self.copies - len(self.too_short)

    @property
    def recall(self) -> float:
        return len(self.detected) / self.comparable if self.comparable else 1.0

    @property
    def precision(self) -> float:
        flagged = len(self.detected) + len(self.false_alarms)
        return len(self.detected) / flagged if flagged else 1.0


def evaluate(class_dir: Path, students: list[Student], work: Path, *, rubric=None) -> list[DisguiseResult]:
    """Run the report once per disguise on that disguise's class; return each one's figures."""
    disguises = sorted({s.kind for s in students} - {INDEPENDENT, TEXTBOOK})
    results = []
    for disguise in disguises:
        members = [s for s in students if s.kind in (INDEPENDENT, TEXTBOOK, disguise)]
        folder = work / disguise.replace(" ", "-").replace("(", "").replace(")", "")
        folder.mkdir(parents=True)
        for student in members:
            source = next(class_dir.glob(f"{student.student_id}.*"))
            shutil.copy(source, folder / source.name)
        report = find_similar(class_dir=folder, rubric=rubric)
        results.append(_measure(disguise, members, report))
    return results


def _measure(disguise: str, members: list[Student], report: SimilarityReport) -> DisguiseResult:
    result = DisguiseResult(disguise)
    threshold = report.settings.threshold
    for question in report.questions:
        answering = [s for s in members if question.question in s.questions]
        independent = [(question.score(a.student_id, b.student_id), a.student_id, b.student_id)
                       for a, b in itertools.combinations(answering, 2) if a.origin != b.origin]
        top = max((score for score, _, _ in independent), default=0.0)
        result.independent_pairs += len(independent)
        result.top_independent[question.question] = top
        result.false_alarms += [(question.question, a, b, score) for score, a, b in independent if score >= threshold]
        for copy in (s for s in answering if s.kind == disguise):
            original = next(s for s in answering if s.origin == copy.origin and s.kind == INDEPENDENT)
            result.copies += 1
            if not {copy.student_id, original.student_id} <= set(question.compared):
                result.too_short.append(f"{question.question}:{copy.student_id}")
                continue
            score = question.score(copy.student_id, original.student_id)
            result.scores.append(score)
            if score >= threshold:
                result.detected.append(copy.student_id)
            else:
                result.missed.append((copy.student_id, score))
            if score <= top:
                result.below_independent.append((copy.student_id, score, top))
    return result


def table(results: list[DisguiseResult], threshold: float) -> str:
    """The precision/recall table, one row per disguise."""
    lines = [f"similarity at threshold {threshold:.2f}: a copy is detected when it scores at or above it with its "
             "original",
             f"{'disguise':22s} {'copies':>6s} {'short':>5s} {'found':>5s} {'recall':>6s} {'precision':>9s} "
             f"{'min score':>9s} {'ranked above all independent':>29s}"]
    for r in results:
        ranked = r.comparable - len(r.below_independent)
        lowest = f"{min(r.scores):.2f}" if r.scores else "-"
        lines.append(f"{r.disguise:22s} {r.copies:6d} {len(r.too_short):5d} {len(r.detected):5d} {r.recall:6.2f} "
                     f"{r.precision:9.2f} {lowest:>9s} {ranked:>22d} / {r.comparable}")
    tops = {}
    for r in results:
        for question, top in r.top_independent.items():
            tops[question] = max(tops.get(question, 0.0), top)
    pairs = sum(r.independent_pairs for r in results)
    lines.append(f"independent pairs: {pairs} (over the {len(results)} classes), flagged: "
                 f"{sum(len(r.false_alarms) for r in results)}; highest per question: "
                 + ", ".join(f"{q} {t:.2f}" for q, t in sorted(tops.items())))
    return "\n".join(lines)
