"""Choosing q7's graded Grad-CAM cases from a seed's test digits (for trusted.select_cases, which documents
the criteria).

It reads the grader CNN's predictions and maps through an oracle (trusted.Maps: `probabilities()`,
`raw(digits, classes, layer=, score=)`, `finished(...)`) and computes no map itself. It never fails
for lack of digits: a pool that is too small widens (the next candidates in the same order), then a
criterion relaxes (the best candidates by it), and each such step is said in the selection's notes.
"""

from __future__ import annotations

import numpy as np

from graders.questions.q7 import heatmaps
from graders.questions.q7.cases import Case, Selection

CONFIDENT = 0.9  # a "clear" digit: classified with at least this probability
GRID = (28, 28)  # maps are compared on the image grid
CLASSES = np.arange(10)


class Selector:
    """One selection: the oracles, the labels, the seed's generator and the rubric's criteria."""

    def __init__(self, maps, random_maps, labels: np.ndarray, rng: np.random.Generator, *, n_clear: int,
                 n_ambiguous: int, n_negative: int, n_layer: int, n_random: int, min_positive: int,
                 class_distinct_max: float, negative_evidence_max_r: float, layer_distinct_max: float, layer: str,
                 other_layer: str) -> None:
        self.maps, self.random_maps, self.labels, self.rng = maps, random_maps, np.asarray(labels), rng
        self.n = {"clear": n_clear, "ambiguous": n_ambiguous, "negative": n_negative, "layer": n_layer,
                  "random": n_random}
        self.min_positive, self.class_distinct_max = min_positive, class_distinct_max
        self.negative_max_r, self.layer_distinct_max = negative_evidence_max_r, layer_distinct_max
        self.layer, self.other_layer = layer, other_layer
        probabilities = maps.probabilities()
        self.ranking = np.argsort(-probabilities, axis=1, kind="stable")
        self.predicted, self.runner_up = self.ranking[:, 0], self.ranking[:, 1]
        top = np.take_along_axis(probabilities, self.ranking[:, :2], axis=1)
        self.confidence, self.gap = top[:, 0], top[:, 0] - top[:, 1]
        self.notes: list[str] = []

    def select(self) -> Selection:
        ambiguous = self._ambiguous()
        clear = self._clear(taken=set(ambiguous))
        graded = [d for d, _ in clear] + ambiguous
        negative = self._negative(taken=set(graded))
        cases = []
        for d, other in clear:
            cases += [Case(d, int(self.predicted[d]), "predicted", "clear"),
                      Case(d, int(self.runner_up[d]), "runner-up", "clear"), Case(d, 0, "class 0", "clear"),
                      Case(d, other, "other class", "clear")]
        for d in ambiguous:
            cases += [Case(d, int(self.predicted[d]), "predicted", "ambiguous"),
                      Case(d, int(self.runner_up[d]), "runner-up", "ambiguous")]
        cases += [Case(d, int(self.predicted[d]), "predicted", "negative evidence") for d in negative]
        layer_digits = self._layer_digits(graded + negative)
        random_digits = self._random_digits([d for d, _ in clear])
        return Selection(cases, layer_digits, random_digits, [int(self.predicted[d]) for d in random_digits],
                         self.notes)

    # -- criteria, on arrays of (digit, class) pairs --------------------------------------------

    def _positive(self, digits, classes, *, layer=None, maps=None) -> np.ndarray:
        raw = (maps or self.maps).raw(digits, classes, layer=layer or self.layer)
        return (raw > 0).sum(axis=(1, 2)) >= self.min_positive

    def _usable(self, digits, classes) -> np.ndarray:
        """The reference's map and the softmax gradient's have enough positive cells (a pattern to compare)."""
        softmax = self.maps.raw(digits, classes, layer=self.layer, score="softmax")
        return self._positive(digits, classes) & ((softmax > 0).sum(axis=(1, 2)) >= self.min_positive)

    def _class_r(self, digits, classes) -> np.ndarray:
        """r between the map of each class and the same digit's predicted-class map."""
        digits = np.asarray(digits, dtype=int)
        ours = self.maps.finished(digits, classes, layer=self.layer)
        theirs = self.maps.finished(digits, self.predicted[digits], layer=self.layer)
        return np.array([_r(a, b) for a, b in zip(ours, theirs)])

    def _distinct(self, digits, classes) -> np.ndarray:
        digits = np.asarray(digits, dtype=int)
        usable = self._usable(digits, classes) & self._usable(digits, self.predicted[digits])
        return usable & (self._class_r(digits, classes) <= self.class_distinct_max)

    # -- the groups ------------------------------------------------------------------------------

    def _ambiguous(self) -> list[int]:
        order = np.argsort(self.gap, kind="stable")
        chosen, scanned = _scan(order, lambda ds: self._distinct(ds, self.runner_up[ds]), self.n["ambiguous"], 32)
        if scanned > 32:
            self.notes.append(f"ambiguous digits: the pool of the 32 closest top-two classes widened to {scanned}")
        if len(chosen) < self.n["ambiguous"]:  # relaxed: the least alike of the 32 closest usable ones
            pool = np.array([d for d in order[:32] if int(d) not in chosen], dtype=int)
            usable = pool[self._usable(pool, self.runner_up[pool]) & self._usable(pool, self.predicted[pool])] \
                if len(pool) else pool
            ranked = usable[np.argsort(self._class_r(usable, self.runner_up[usable]), kind="stable")] \
                if len(usable) else usable
            chosen += [int(d) for d in ranked[:self.n["ambiguous"] - len(chosen)]]
            self.notes.append(f"ambiguous digits: too few with r <= {self.class_distinct_max:g} between the runner-up's "
                              "and the predicted class's maps; completed with the least alike")
        return [int(d) for d in chosen]

    def _clear(self, *, taken: set) -> list[tuple[int, int]]:
        correct, free = self.predicted == self.labels, (self.predicted != 0) & (self.runner_up != 0)
        tiers = [("confidently, correctly classified", correct & (self.confidence >= CONFIDENT) & free),
                 ("correctly classified (any confidence)", correct & free), ("any", free)]
        chosen: list[tuple[int, int]] = []
        for number, (words, mask) in enumerate(tiers):
            used, before = taken | {d for d, _ in chosen}, len(chosen)
            order = np.array([d for d in self.rng.permutation(np.flatnonzero(mask)) if int(d) not in used], dtype=int)
            for start in range(0, len(order), 16):
                if len(chosen) == self.n["clear"]:
                    break
                chosen += self._clear_in(order[start:start + 16], self.n["clear"] - len(chosen))
            if number and len(chosen) > before:
                self.notes.append(f"clear digits: {len(chosen) - before} taken from {words} digits")
            if len(chosen) == self.n["clear"]:
                return chosen
        return chosen + self._relaxed_clear(taken | {d for d, _ in chosen}, self.n["clear"] - len(chosen))

    def _clear_in(self, block: np.ndarray, wanted: int) -> list[tuple[int, int]]:
        """(digit, other class) of the digits of `block` whose runner-up, class 0 and a drawn lower class qualify."""
        distinct = self._distinct(np.repeat(block, 10), np.tile(CLASSES, len(block))).reshape(len(block), 10)
        chosen = []
        for row, d in enumerate(block):
            if len(chosen) == wanted:
                break
            if distinct[row, self.runner_up[d]] and distinct[row, 0]:
                lower = [int(c) for c in self.rng.permutation(self.ranking[d, 2:]) if c != 0]
                other = next((c for c in lower if distinct[row, c]), None)
                if other is not None:
                    chosen.append((int(d), other))
        return chosen

    def _relaxed_clear(self, taken: set, wanted: int) -> list[tuple[int, int]]:
        """The digits whose asked classes' maps are usable, the least like the predicted class's first."""
        candidates = np.array([d for d in np.flatnonzero((self.predicted != 0) & (self.runner_up != 0))
                               if int(d) not in taken], dtype=int)
        scored = []
        for d in candidates:
            lower = [int(c) for c in self.ranking[d, 2:] if c != 0]
            asked = np.array([self.runner_up[d], 0, lower[0]])
            digits = np.full(3, d)
            if self._usable(digits, asked).all() and self._usable(digits[:1], self.predicted[digits[:1]]).all():
                scored.append((float(self._class_r(digits, asked).max()), int(d), lower[0]))
        chosen = [(d, other) for _, d, other in sorted(scored)[:wanted]]
        self.notes.append(f"clear digits: {len(chosen)} of {wanted} chosen with the class-distinctness criterion "
                          f"relaxed (r up to {max([s for s, _, _ in sorted(scored)[:wanted]], default=0):.2f})")
        return chosen

    def _negative(self, *, taken: set) -> list[int]:
        drawn = np.array([d for d in self.rng.permutation(len(self.predicted)) if int(d) not in taken], dtype=int)
        relu_r: dict[int, float] = {}

        def qualifies(block):
            usable = self._usable(block, self.predicted[block])
            worst = np.max([self._relu_r(block, score) for score in ("logit", "softmax")], axis=0)
            relu_r.update({int(d): float(r) for d, r, ok in zip(block, worst, usable) if ok})
            return usable & (worst <= self.negative_max_r)

        chosen, _ = _scan(drawn, qualifies, self.n["negative"], 256)
        chosen = [int(d) for d in chosen]
        if len(chosen) < self.n["negative"]:
            rest = sorted((r, d) for d, r in relu_r.items() if d not in chosen)[:self.n["negative"] - len(chosen)]
            chosen += [d for _, d in rest]
            self.notes.append(f"negative-evidence digits: too few with r <= {self.negative_max_r:g}; relaxed to the "
                              f"digits whose map changes most with the ReLU (r up to {max(r for r, _ in rest):.2f})"
                              if rest else "negative-evidence digits: none usable")
        return chosen

    def _relu_r(self, digits, score: str) -> np.ndarray:
        classes = self.predicted[digits]
        with_relu = self.maps.finished(digits, classes, layer=self.layer, score=score)
        without = self.maps.finished(digits, classes, layer=self.layer, score=score, relu=False)
        return np.array([_r(a, b) for a, b in zip(with_relu, without)])

    def _layer_digits(self, candidates: list[int]) -> list[int]:
        digits = np.array(candidates, dtype=int)
        if not len(digits):
            return []
        classes = self.predicted[digits]
        usable = self._positive(digits, classes, layer=self.other_layer)
        there = self.maps.finished(digits, classes, layer=self.other_layer)
        here = self.maps.finished(digits, classes, layer=self.layer)
        r = np.array([_r(a, b) for a, b in zip(there, here)])
        ranked = [int(d) for d in digits[usable & (r <= self.layer_distinct_max)]]
        if len(ranked) < self.n["layer"]:
            rest = [int(digits[i]) for i in np.argsort(r, kind="stable") if int(digits[i]) not in ranked]
            self.notes.append(f"layer digits: too few graded digits with r <= {self.layer_distinct_max:g} between "
                              f"their {self.other_layer} and {self.layer} maps; completed with the least alike")
            ranked += rest
        return ranked[:self.n["layer"]]

    def _random_digits(self, clear: list[int]) -> list[int]:
        confident = np.flatnonzero((self.predicted == self.labels) & (self.confidence >= CONFIDENT))
        order = list(dict.fromkeys([*clear, *(int(d) for d in confident), *range(len(self.predicted))]))
        order = np.array(order, dtype=int)

        def qualifies(block):
            classes = self.predicted[block]
            return self._positive(block, classes) & self._positive(block, classes, maps=self.random_maps)

        chosen, scanned = _scan(order, qualifies, self.n["random"], 32)
        if scanned > max(32, len(clear)):
            self.notes.append(f"randomisation digits: the pool widened to {scanned} digits")
        if len(chosen) < self.n["random"]:
            self.notes.append(f"randomisation digits: only {len(chosen)} with positive cells on both models")
        return [int(d) for d in chosen]


def _scan(order: np.ndarray, qualifies, wanted: int, chunk: int) -> tuple[list[int], int]:
    """The first `wanted` entries of `order` that qualify (tested `chunk` at a time), and how many were tested."""
    chosen: list[int] = []
    scanned = 0
    for start in range(0, len(order), chunk):
        if len(chosen) >= wanted:
            break
        block = np.asarray(order[start:start + chunk], dtype=int)
        scanned += len(block)
        chosen += [int(d) for d in block[qualifies(block)]]
    return chosen[:wanted], scanned


def _r(a: np.ndarray, b: np.ndarray) -> float:
    return heatmaps.pearson(heatmaps.resample(a, GRID), heatmaps.resample(b, GRID))
