"""Compare every pair of students on one question: shared fingerprints, as one matrix product.

Fingerprints that a large share of the class has (a textbook formula, the lecture's Grad-CAM
snippet) are evidence of nothing and are ignored, as MOSS's `-m` does. A student left with too
few fingerprints after that is "too short to compare", never part of a match.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from graders.similarity.fingerprint import Fingerprints


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a question across the class."""

    students: tuple[str, ...]          # the students compared, in matrix order
    scores: np.ndarray                 # scores[i, j]: similarity of students i and j (0 on the diagonal)
    shared: np.ndarray                 # shared fingerprints of students i and j
    kept: dict[str, Fingerprints]      # each compared student's fingerprints, common ones removed
    too_common: tuple[str, ...]        # too short once the class's common code is ignored
    ignored: int                       # fingerprints ignored as common to the class

    def score(self, a: str, b: str) -> float:
        """The score of students a and b (0.0 when either was not compared)."""
        try:
            return float(self.scores[self.students.index(a), self.students.index(b)])
        except ValueError:
            return 0.0


def common_cutoff(class_size: int, *, fraction: float, minimum: int) -> int:
    """How many students may share a fingerprint before it counts as common to the class."""
    return max(minimum, math.ceil(fraction * class_size))


def compare(prints: dict[str, Fingerprints], *, cutoff: int, min_fingerprints: int) -> Comparison:
    """Score every pair of `prints` (student -> fingerprints, each already long enough to compare).

    The score of a pair is the share of the smaller student's fingerprints that the other has too
    (MOSS's larger percentage): a copy padded with code of its own still scores high.
    """
    frequency = Counter(h for p in prints.values() for h in p.lines)
    common = {h for h, count in frequency.items() if count > cutoff}
    kept = {student: p.without(common) for student, p in prints.items()}
    too_common = tuple(s for s, p in kept.items() if len(p) < min_fingerprints)
    compared = {s: p for s, p in kept.items() if len(p) >= min_fingerprints}
    students = tuple(compared)
    shared = _shared_counts(students, compared)
    sizes = np.array([len(compared[s]) for s in students], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(shared > 0, shared / np.minimum.outer(sizes, sizes), 0.0)
    np.fill_diagonal(scores, 0.0)
    return Comparison(students, scores, shared, compared, too_common, len(common))


def _shared_counts(students: tuple[str, ...], prints: dict[str, Fingerprints]) -> np.ndarray:
    """shared[i, j] = |F_i ∩ F_j|, from a 0/1 student x fingerprint matrix (only fingerprints two students have)."""
    frequency = Counter(h for s in students for h in prints[s].lines)
    columns = {h: i for i, h in enumerate(h for h, count in frequency.items() if count > 1)}
    matrix = np.zeros((len(students), len(columns)), dtype=np.float32)
    for row, student in enumerate(students):
        hits = [columns[h] for h in prints[student].lines if h in columns]
        matrix[row, hits] = 1.0
    shared = np.rint(matrix @ matrix.T).astype(np.int64)  # exact: counts are far below float32's 2**24
    np.fill_diagonal(shared, 0)
    return shared


def matched_lines(a: Fingerprints, b: Fingerprints) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The lines of a's and b's code covered by the fingerprints they share."""
    both = a.lines.keys() & b.lines.keys()
    return (tuple(sorted(set().union(*(a.lines[h] for h in both)))),
            tuple(sorted(set().union(*(b.lines[h] for h in both)))))
