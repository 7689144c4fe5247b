"""What a similarity run found, as plain dataclasses, and its similarity.csv."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from graders.core.results import write_text_atomically
from graders.similarity.compare import Comparison

CSV_COLUMNS = ("question", "student_a", "student_b", "score", "lines_a", "lines_b")


@dataclass(frozen=True)
class SimilaritySettings:
    """The `[similarity]` section of the rubric (graders/rubric.toml says what each one is)."""

    threshold: float
    k: int
    window: int
    min_fingerprints: int
    common_fraction: float
    common_min_students: int
    max_pairs_shown: int
    max_tokens: int


@dataclass(frozen=True)
class MatchedPair:
    """Two students whose code for a question scored at or above the threshold."""

    question: str
    a: str
    b: str
    score: float                # share of the smaller code's fingerprints that the other has too
    shared: int                 # fingerprints in common
    lines_a: tuple[int, ...]    # lines of a's code (QuestionReport.code[a]) in the shared fingerprints
    lines_b: tuple[int, ...]


@dataclass(frozen=True)
class QuestionReport:
    """One question across the class."""

    question: str
    title: str
    pairs: tuple[MatchedPair, ...]        # at or above the threshold, highest score first
    code: dict[str, str]                  # student -> the code compared (contract names and helpers)
    compared: tuple[str, ...]             # students whose code was compared
    too_short: tuple[str, ...]            # too little code of their own (beyond the starter) to compare
    too_common: tuple[str, ...]           # too little once code common to much of the class is ignored
    not_answered: tuple[str, ...]         # no contract name of the question (or only literal constants)
    not_compared: dict[str, str] = field(default_factory=dict)  # student -> why (too large, nested too deeply)
    comparison: Comparison | None = field(default=None, repr=False, compare=False)

    def score(self, a: str, b: str) -> float:
        """Any two students' score (0.0 when either was not compared): for evaluations."""
        return self.comparison.score(a, b) if self.comparison else 0.0


@dataclass(frozen=True)
class SimilarityReport:
    """Every question's pairs, plus the students whose submission could not be read."""

    class_dir: str
    settings: SimilaritySettings
    students: tuple[str, ...]
    questions: tuple[QuestionReport, ...]
    not_loaded: dict[str, str]            # student -> why the submission could not be read
    duration_s: float

    def question(self, question: str) -> QuestionReport:
        return next(q for q in self.questions if q.question == question)

    def describe(self) -> str:
        """One line for the terminal."""
        flagged = ", ".join(f"{q.question} {len(q.pairs)}" for q in self.questions)
        return (f"similarity: {len(self.students)} students, pairs at or above {self.settings.threshold:.0%}: "
                f"{flagged} ({self.duration_s:.1f} s)")


def line_ranges(lines: tuple[int, ...] | list[int]) -> str:
    """(3, 4, 5, 9) -> "3-5 9"."""
    ranges, start, previous = [], None, None
    for line in sorted(lines):
        if start is not None and line == previous + 1:
            previous = line
            continue
        if start is not None:
            ranges.append(f"{start}-{previous}" if previous != start else f"{start}")
        start = previous = line
    if start is not None:
        ranges.append(f"{start}-{previous}" if previous != start else f"{start}")
    return " ".join(ranges)


def similarity_csv(report: SimilarityReport) -> str:
    """similarity.csv: one row per pair at or above the threshold, by question then score."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for question in report.questions:
        for pair in question.pairs:
            writer.writerow([pair.question, pair.a, pair.b, f"{pair.score:.3f}",
                             line_ranges(pair.lines_a), line_ranges(pair.lines_b)])
    return buffer.getvalue()


def write_csv(report: SimilarityReport, path: Path) -> Path:
    write_text_atomically(path, similarity_csv(report))
    return path
