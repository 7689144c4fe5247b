"""`find_similar`: compare a class's submissions question by question (reports/similarity.py writes the outputs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from graders.core.errors import SubmissionLoadError
from graders.core.rubric import Rubric
from graders.questions import QUESTIONS as DECLARED
from graders.similarity.boilerplate import boilerplate_kgrams
from graders.similarity.compare import Comparison, common_cutoff, compare, matched_lines
from graders.similarity.extract import QuestionCode, Submission, question_code, read_submission
from graders.similarity.fingerprint import Fingerprints, fingerprint
from graders.similarity.normalise import TooLarge, token_streams
from graders.similarity.report import MatchedPair, QuestionReport, SimilarityReport, SimilaritySettings
from graders.submission.classfolder import discover

QUESTIONS = tuple(question.id for question in DECLARED)


class _Collected:
    """Per question: each student's code and fingerprints, and why the others were left out."""

    def __init__(self) -> None:
        self.code: dict[str, str] = {}
        self.prints: dict[str, Fingerprints] = {}
        self.too_short: list[str] = []
        self.not_answered: list[str] = []
        self.not_compared: dict[str, str] = {}


def find_similar(*, class_dir: Path | str, rubric: Path | str | None = None,
                 progress: Callable[[str], None] | None = None) -> SimilarityReport:
    """Compare every pair of students of `class_dir` on each question's code.

    Args:
        class_dir: one submission per entry, as `hw3grade batch` takes it (ids from the names).
        rubric: the rubric TOML whose `[similarity]` section sets thresholds and sizes (default
            graders/rubric.toml).
        progress: called with each student id once that submission is read.
    Returns:
        The pairs at or above the threshold per question, with the code and matched lines.
    Raises:
        FileNotFoundError: `class_dir` is not a folder.
        HarnessError: the rubric has no valid `[similarity]` section.
    """
    started = time.perf_counter()
    loaded = Rubric.load(rubric)
    settings = loaded.section("similarity", SimilaritySettings)
    entries = discover(Path(class_dir))
    boilerplate = boilerplate_kgrams(k=settings.k, max_tokens=settings.max_tokens)
    collected = {question: _Collected() for question in QUESTIONS}
    not_loaded: dict[str, str] = {}
    for entry in entries:
        submission = _read(entry.path)
        if isinstance(submission, str):
            not_loaded[entry.student_id] = submission
        else:
            for question in QUESTIONS:
                _collect(collected[question], entry.student_id, question_code(submission, question),
                         settings, boilerplate)
        if progress:
            progress(entry.student_id)
    questions = tuple(_question_report(q.id, loaded.title(q.id, default=q.title), collected[q.id], settings) for q in DECLARED)
    return SimilarityReport(str(class_dir), settings, tuple(e.student_id for e in entries), questions, not_loaded,
                            time.perf_counter() - started)


def _read(path: Path) -> Submission | str:
    """The parsed submission, or why it cannot be read."""
    try:
        submission = read_submission(path)
    except SubmissionLoadError as err:
        return str(err)
    if not submission.definitions and submission.problems:  # e.g. its only file does not parse
        return "; ".join(submission.problems)
    return submission


def _collect(into: _Collected, student: str, code: QuestionCode | None, settings: SimilaritySettings,
             boilerplate: frozenset[int]) -> None:
    if code is None:
        into.not_answered.append(student)
        return
    into.code[student] = code.text
    try:
        streams = token_streams(code, max_tokens=settings.max_tokens)
    except TooLarge:
        into.not_compared[student] = f"more than {settings.max_tokens} tokens: too large to compare"
        return
    except RecursionError:
        into.not_compared[student] = "nested too deeply to compare"
        return
    prints = fingerprint(streams, k=settings.k, window=settings.window).without(boilerplate)
    if len(prints) < settings.min_fingerprints:
        into.too_short.append(student)
    else:
        into.prints[student] = prints


def _question_report(question: str, title: str, collected: _Collected, settings: SimilaritySettings) -> QuestionReport:
    answered = len(collected.code)  # "common" is relative to the students who answered this question
    cutoff = common_cutoff(answered, fraction=settings.common_fraction, minimum=settings.common_min_students)
    comparison = compare(collected.prints, cutoff=cutoff, min_fingerprints=settings.min_fingerprints)
    pairs = sorted(_pairs(question, comparison, settings.threshold), key=lambda p: (-p.score, p.a, p.b))
    return QuestionReport(question, title, tuple(pairs), collected.code, comparison.students,
                          tuple(collected.too_short), comparison.too_common, tuple(collected.not_answered),
                          collected.not_compared, comparison)


def _pairs(question: str, comparison: Comparison, threshold: float):
    students = comparison.students
    for i, j in zip(*(comparison.scores >= threshold).nonzero()):
        if i < j:
            a, b = students[i], students[j]
            lines_a, lines_b = matched_lines(comparison.kept[a], comparison.kept[b])
            yield MatchedPair(question, a, b, float(comparison.scores[i, j]), int(comparison.shared[i, j]),
                              lines_a, lines_b)
