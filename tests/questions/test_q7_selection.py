"""q7's case selection (graders/questions/q7/selection.py) where its criteria cannot be met: it widens its pool,
relaxes a criterion or takes fewer digits, says so in its notes, and never fails. On synthetic predictions
and maps (tests/reference/test_sweep_q7.py runs it on the grader's CNN on 201 seeds, none needing this)."""

import numpy as np
import pytest

from graders.questions.q7.cases import ROLES
from graders.questions.q7.trusted import finish, select_cases

SHAPES = {"conv3": (10, 10), "conv2": (12, 12)}
WANTED = {"n_clear": 3, "n_ambiguous": 3, "n_negative": 2, "n_layer": 4, "n_random": 6}


class FakeMaps:
    """Random but reproducible predictions and raw maps, in the oracle's interface (trusted.Maps)."""

    def __init__(self, n: int, seed: int = 0, *, confidence: float = 3.0):
        logits = np.random.default_rng(seed).normal(size=(n, 10)) * confidence
        self._probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        self.seed = seed

    def probabilities(self):
        return self._probabilities

    def raw(self, digits, classes, *, layer, score="logit"):
        return np.stack([np.random.default_rng([self.seed, int(d), int(c), len(layer), score == "logit"]).normal(
            size=SHAPES[layer]) for d, c in zip(digits, classes)]) if len(digits) else np.zeros((0, 1, 1))

    def finished(self, digits, classes, *, layer, score="logit", relu=True):
        return finish(self.raw(digits, classes, layer=layer, score=score), relu=relu)


def select(n=200, *, labels=None, **criteria):
    maps, random_maps = FakeMaps(n), FakeMaps(n, seed=1)
    labels = maps.probabilities().argmax(axis=1) if labels is None else labels
    settings = {"min_positive": 3, "class_distinct_max": 0.5, "negative_evidence_max_r": 0.85,
                "layer_distinct_max": 0.9, **WANTED, **criteria}
    return select_cases(maps, random_maps, labels, np.random.default_rng(0), layer="conv3", other_layer="conv2",
                        **settings)


def counts(selection):
    return len(selection.cases), len(selection.layer_digits), len(selection.random_digits)


def test_criteria_no_digit_meets_are_relaxed_and_said():
    selection = select(class_distinct_max=-2.0, negative_evidence_max_r=-2.0, layer_distinct_max=-2.0)
    assert counts(selection) == (20, 4, 6) and {case.role for case in selection.cases} == set(ROLES)
    notes = " ".join(selection.notes)
    for group in ("ambiguous digits", "clear digits", "negative-evidence digits", "layer digits"):
        assert group in notes, notes


def test_without_confident_digits_the_clear_pool_widens():
    wrong_labels = (FakeMaps(200).probabilities().argmax(axis=1) + 1) % 10  # nothing correctly classified
    selection = select(labels=wrong_labels)
    assert counts(selection) == (20, 4, 6)
    assert any("clear digits" in note and "taken from any digits" in note for note in selection.notes)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_too_few_digits_give_fewer_cases_and_never_an_error(n):
    selection = select(n)
    assert len(selection.cases) <= 20 and len(selection.random_digits) <= min(n, 6)
    if n < 3:
        assert selection.notes
