"""q1's training data and scores (graders/questions/q1/training.py): the worker gets validation digits
without their labels, the retrain's digits are a prefix of the budget's, the capped search's split is
disjoint from them, and accuracy is computed here from the model's outputs."""

from types import SimpleNamespace

import numpy as np
import pytest

from graders.core.errors import WrongType
from graders.questions.q1 import training


def fake_mnist(n_train=400, n_test=200):
    rng = np.random.default_rng(0)
    return SimpleNamespace(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                           y_train=rng.integers(0, 10, n_train), x_test=rng.integers(0, 256, (n_test, 28, 28),
                                                                                        dtype=np.uint8),
                           y_test=rng.integers(0, 10, n_test))


def test_the_training_probe_gets_no_validation_labels_and_the_retrain_digits_are_the_budgets():
    mnist = fake_mnist()
    data = training.budget(mnist, 7, key="q1.budget", n_train=128, n_val=64, epochs=2, batch_size=64)
    assert set(data.sent()) == {"x_train", "y_train", "x_val", "epochs", "batch_size", "each_epoch"}
    smaller = training.budget(mnist, 7, key="q1.budget", n_train=64, n_val=32, epochs=1, batch_size=64)
    np.testing.assert_array_equal(smaller.x_val, data.x_val[:32])
    search = training.search_split(mnist, 7, n_train=100, n_val=50)
    assert search["x_train"].shape[0] == 100 and search["x_val"].shape[0] == 50
    assert not any(np.array_equal(search["x_val"][i], data.x_val[j]) for i in range(50) for j in range(64))


def test_accuracy_is_computed_from_outputs_and_a_wrong_shape_is_refused():
    labels = np.array([0, 1, 2, 3])
    outputs = np.eye(10)[[[0, 1, 2, 3], [0, 1, 0, 0]]]
    assert training.accuracies(outputs, labels, epochs=2) == [1.0, 0.5]
    with pytest.raises(WrongType, match=r"expected \(4, 10\)"):
        training.accuracies(np.zeros((2, 4, 1)), labels, epochs=2)


def test_every_seed_draws_every_digit_it_asks_for_and_a_small_data_set_never_fails_a_draw():
    """q1's seeded selections (the budget, the retrain's first digits, the capped search's split) on 200
    seeds; on a data set smaller than the budgets, they take what there is and say so."""
    from graders.core.rubric import Rubric
    from graders.questions.q1.judges import Settings

    settings = Rubric.load().section("q1", Settings)
    mnist = fake_mnist(n_train=4000, n_test=1000)  # the embedded data set's split
    for seed in [*range(200), 2**64 - 1]:
        data = training.budget(mnist, seed, key="q1.budget", n_train=settings.budget_train,
                               n_val=settings.budget_val, epochs=settings.budget_epochs, batch_size=64)
        assert (len(data.y_train), len(data.y_val), data.short) == (settings.budget_train, settings.budget_val, "")
        search = training.search_split(mnist, seed, n_train=settings.search_train, n_val=settings.search_val)
        assert (len(search["y_train"]), len(search["y_val"])) == (settings.search_train, settings.search_val)
    small = fake_mnist(n_train=300, n_test=50)
    data = training.budget(small, 3, key="q1.budget", n_train=2048, n_val=960, epochs=2, batch_size=64)
    assert (len(data.y_train), len(data.y_val)) == (300, 50) and "300 training digits of 2,048" in data.short
    search = training.search_split(small, 3, n_train=512, n_val=256)
    assert len(search["y_train"]) == 200 and len(search["y_val"]) == 100, "both parts of a small split are used"
    canonical = training.canonical_budget(small, seed=0, key="q1.retrain", n_train=1024, n_val=256, epochs=1,
                                          batch_size=16)
    assert (len(canonical.y_train), len(canonical.y_val)) == (94, 256) and canonical.short
