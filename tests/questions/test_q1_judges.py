"""q1's judges (graders/questions/q1/judges.py) on observations made in this process, without TensorFlow:
the policies (logits with from_logits=True, val_acc for metrics=['acc'], a schedule from the tuned rate, a
one-hot loss), messages that never name a part the probe found right, and the reported values a student
could use against the grader (a point outside the space, 10**400, a threshold below the floor)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from graders import test_q1_tuner as grader
from graders.core.judging import judge, normalise
from graders.core.results import FAILED, PASSED
from graders.harness.checks import CheckContext
from graders.questions.q1 import points
from graders.questions.q1.diagnosis import likely_causes, model_problems
from graders.questions.q1.judges import JUDGES
from tests.reference.in_process import FakeStudent, rubric_settings

SETTINGS = rubric_settings("q1", grader.Settings)
REFERENCE_POINT = {"conv_layers": 2, "filters_0": 64, "kernel_0": 3, "filters_1": 128, "kernel_1": 5,
                   "dense_layers": 2, "units_0": 128, "dropout_0": 0.2, "units_1": 64, "dropout_1": 0.0,
                   "learning_rate": 0.001}


def verdict(check: CheckContext, settings=SETTINGS):
    return judge(JUDGES, normalise(check.observations), settings)


def corner(**result) -> dict:
    base = {"error": None, "output_shape": [None, 10], "min_output": 0.0, "row_sums": [1.0] * 4, "compiled": True,
            "loss": "sparse_categorical_crossentropy", "from_logits": None, "final_activation": "softmax"}
    return {**base, **result}


# -- corner builds: a compiled 10-class classifier ------------------------------------------------

def test_logits_with_from_logits_is_a_correct_classifier_and_softmax_with_it_is_named_once():
    logits = corner(loss="SparseCategoricalCrossentropy", from_logits=True, final_activation="linear",
                    min_output=-3.2, row_sums=[0.7, -1.2, 2.0, 0.1])
    assert model_problems(logits, 1e-3) == []
    twice = model_problems(corner(loss="SparseCategoricalCrossentropy", from_logits=True), 1e-3)
    assert len(twice) == 1 and "from_logits=True but the model outputs probabilities" in twice[0]
    linear = model_problems(corner(final_activation="linear", min_output=-3.2, row_sums=[0.7] * 4), 1e-3)
    assert len(linear) == 1 and "softmax" in linear[0] and "from_logits=True" in linear[0]


def test_a_one_hot_loss_is_not_a_corner_problem_but_another_loss_is():
    assert model_problems(corner(loss="categorical_crossentropy", one_hot_loss=True), 1e-3) == []
    assert "expected sparse categorical cross-entropy" in model_problems(corner(loss="mse"), 1e-3)[0]


# -- the budgeted training: causes the probe measured, never a part it found right ----------------

def right_model(**changes) -> dict:
    model = {"optimizer": "Adam", "learning_rate": 1e-3, "learning_rate_schedule": None, "loss": "sparse_categorical_crossentropy",
             "from_logits": None, "one_hot_loss": False, "final_activation": "softmax",
             "layers": [{"class": "Conv2D", "kind": "conv", "activation": "relu"}, {"class": "Flatten", "kind": None},
                        {"class": "Dense", "kind": "dense", "activation": "softmax"}]}
    return {**model, **changes}


def budget_check(model: dict, accuracies=(0.11, 0.13), error=None) -> CheckContext:
    check = CheckContext("q1.train.budget", 2.0, False)
    curve = {"epoch": [1, 2], "val_accuracy": list(accuracies)} if error is None else {}
    check.observe("budget_training", point="conv_layers=2, ...", budget="2 epochs on 2,048 digits", short="",
                  model=model, training_error=error, not_declared=[], one_hot=False, tuned_rate=1e-3, curve=curve,
                  val_accuracy=None if error else accuracies[-1])
    return check


def test_a_model_right_in_every_part_the_probe_sees_is_told_what_it_could_not_check():
    gap = right_model(layers=[{"class": "Conv2D", "kind": "conv", "activation": "relu"},
                              {"class": "GlobalAveragePooling2D", "kind": None},
                              {"class": "Dense", "kind": "dense", "activation": "softmax"}])
    message = verdict(budget_check(gap)).message
    assert "Everything the probe can check is right (Adam at the tuned learning rate 0.001, sparse categorical " \
           "cross-entropy, a softmax output)" in message
    assert "GlobalAveragePooling2D head" in message and "how fast this architecture starts to learn" in message
    for named in ("check the output activation", "Likely causes", "learning rate is"):
        assert named not in message


def test_each_measured_cause_is_named_and_nothing_the_probe_found_right():
    sgd = verdict(budget_check(right_model(optimizer="SGD"))).message
    assert "SGD at the tuned learning rates" in sgd and "softmax" not in sgd.partition("Likely causes")[2]
    slow_rate = verdict(budget_check(right_model(learning_rate=1e-4))).message
    assert "the optimizer's learning rate is 0.0001, not the tuned learning_rate 0.001" in slow_rate
    linear = verdict(budget_check(right_model(final_activation="linear"))).message
    assert "activation is 'linear', not softmax" in linear and "SGD" not in linear
    schedule = likely_causes({"val_accuracy": [0.5]}, right_model(learning_rate_schedule="ExponentialDecay"),
                             tuned_rate=1e-3, rtol=1e-5)
    assert "Adam at the tuned learning rate 0.001 (ExponentialDecay's initial rate)" in schedule


def test_a_one_hot_loss_fails_the_training_naming_the_sparse_loss():
    model = right_model(loss="categorical_crossentropy", one_hot_loss=True)
    error = "training failed: ValueError: Arguments `target` and `output` must have the same rank (ndim)."
    failed = verdict(budget_check(model, error=error))
    assert failed.status == FAILED and error in failed.message
    assert "'categorical_crossentropy', a loss for one-hot labels" in failed.message
    assert "loss='sparse_categorical_crossentropy'" in failed.message


def test_the_budget_threshold_is_read_by_the_judge_only():
    check = budget_check(right_model(), accuracies=(0.70, 0.86))
    assert verdict(check).status == PASSED
    stricter = rubric_settings("q1", grader.Settings)
    stricter = type(stricter)(**{**vars(stricter), "budget_threshold": 0.9})
    assert "below the threshold 0.900" in verdict(check, stricter).message


# -- the tuner ---------------------------------------------------------------------------------

def tuner(**changes) -> dict:
    base = {"class": "Hyperband", "is_tuner": True, "is_hyperband": True, "oracle": "HyperbandOracle",
            "objective": "val_accuracy", "direction": "max", "uses_directory": True, "uses_project_name": True,
            "directory": "/tmp/x/trials", "project_name": "q1_capped_1", "hypermodel_calls": 2,
            "built_model": {"accuracy_metrics": ["accuracy"], "loss": "sparse_categorical_crossentropy",
                            "one_hot_loss": False}}
    return {**base, **changes}


def tuner_verdict(description: dict):
    check = CheckContext("q1.tuner.hyperband", 1.0, False)
    grader.test_make_tuner_returns_hyperband_on_val_accuracy({"tuner": description}, check)
    return verdict(check)


def test_the_objective_is_the_validation_accuracy_the_model_logs():
    logged_acc = {"accuracy_metrics": ["acc"], "loss": "sparse_categorical_crossentropy", "one_hot_loss": False}
    passed = tuner_verdict(tuner(objective="val_acc", built_model=logged_acc))
    assert passed.status == PASSED and "it is val_accuracy" in passed.details["remark"]
    wrong = tuner_verdict(tuner(objective="val_acc"))
    assert wrong.status == FAILED and "expected 'val_accuracy'" in wrong.message
    training = tuner_verdict(tuner(objective="acc", built_model=logged_acc))
    assert "the training accuracy" in training.message and "which this model logs as 'val_acc'" in training.message


def test_make_tuner_must_use_each_of_its_arguments():
    assert tuner_verdict(tuner()).status == PASSED
    assert "never built a model with the hypermodel argument" in tuner_verdict(tuner(hypermodel_calls=0)).message
    assert "ignores the directory argument (it writes to 'runs')" in tuner_verdict(
        tuner(uses_directory=False, directory="runs")).message
    message = tuner_verdict(tuner(uses_project_name=False, project_name="hw3")).message
    assert "ignores the project_name argument (its project is 'hw3')" in message and "directory" not in message


def test_a_search_without_the_objective_says_which_name_the_model_logs():
    check = CheckContext("q1.tuner.search", 2.0, False)
    trials = [{"id": "0", "status": "FAILED", "score": None, "message": "RuntimeError: Objective value missing"}]
    logged_acc = {"accuracy_metrics": ["acc"], "loss": "sparse_categorical_crossentropy", "one_hot_loss": False}
    grader.test_capped_search_completes({"search": {"trials": trials, "best_score": None},
                                         "tuner": tuner(built_model=logged_acc)}, check)
    message = verdict(check).message
    assert "logs its validation accuracy as 'val_acc'; use objective='val_acc'" in message


# -- reported values a hostile student could send ------------------------------------------------

@pytest.mark.parametrize("value, fragment", [
    (10**400, "a number too large for a float (100000000000..., 401 digits)"),
    (-(10**400), "a number too large for a float (-10000000000..., 401 digits)"),
    (float("nan"), "BEST_VAL_ACCURACY is nan"), (float("inf"), "BEST_VAL_ACCURACY is inf"),
    (95.5, "it looks like a percentage"), (0.05, "above chance (0.1)"),
])
def test_a_reported_accuracy_that_is_no_fraction_is_a_wrong_answer(value, fragment):
    check = CheckContext("q1.reported.val_accuracy", 1.0, False)
    grader.test_reported_val_accuracy_plausible(FakeStudent({"BEST_VAL_ACCURACY": value}), check)
    failed = verdict(check)
    assert (failed.status, failed.category) == (FAILED, FAILED) and fragment in failed.message


class Untouchable:
    """A student or trusted side that must not be asked to train anything."""

    def __init__(self, names=None):
        self.student = FakeStudent(names or {})

    def get(self, name, *, timeout=None):
        return self.student.get(name)

    def probe(self, *args, **kwargs):
        raise AssertionError("a point outside the space was trained")

    def value(self, *args, **kwargs):
        raise AssertionError("the reference was trained at a point outside the space")


@pytest.mark.parametrize("change, fragment", [
    ({"filters_0": 10**6}, "filters_0=1000000 (expected Int 32..256"),
    ({"learning_rate": 10.0}, "learning_rate=10.0 (expected Choice"),
    ({"kernel_1": "5"}, "kernel_1='5' (expected Choice {3, 5})"),
    ({"units_0": 10**400}, "units_0='1000000... (401 digits)'"),
    ({"dropout_1": float("nan")}, "dropout_1=nan"),
])
def test_a_reported_point_outside_the_space_fails_before_anything_trains(change, fragment):
    student = Untouchable({"BEST_HYPERPARAMETERS": {**REFERENCE_POINT, **change}})
    check = CheckContext("q1.reported.retrain", 2.0, True)
    grader.test_reported_point_retrains(student, student, fake_mnist(), SETTINGS, 1234, check)
    failed = verdict(check)
    assert failed.status == FAILED and "nothing was trained" in failed.message and fragment in failed.message


def fake_mnist(n_train=2400, n_test=400):
    rng = np.random.default_rng(0)
    return SimpleNamespace(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                           y_train=rng.integers(0, 10, n_train), x_test=rng.integers(0, 256, (n_test, 28, 28),
                                                                                        dtype=np.uint8),
                           y_test=rng.integers(0, 10, n_test))


class Retraining:
    """A student whose model scores `accuracy` on the retrain, and a trusted side whose reference scores `reference`."""

    def __init__(self, accuracy: float, reference: float, mnist):
        self.accuracy, self.reference, self.asked = accuracy, reference, {}
        self.labels = grader.budget_data(mnist, 1234, SETTINGS, retrain=True).y_val

    def get(self, name, *, timeout=None):
        return dict(REFERENCE_POINT)

    def probe(self, module, name, *, needs=(), timeout=None, **kwargs):
        self.asked["probe"] = kwargs
        right = round(self.accuracy * len(self.labels))
        guesses = np.concatenate([self.labels[:right], (self.labels[right:] + 1) % 10])
        chance = np.eye(10, dtype=np.float32)[(self.labels + 1) % 10]  # every epoch but the last: all wrong
        outputs = [chance] * (kwargs["epochs"] - 1) + [np.eye(10, dtype=np.float32)[guesses]]
        return {"error": None, "predictions": np.stack(outputs), "history": {}, "model": right_model(),
                "one_hot": False}

    def value(self, question, kind, **inputs):
        self.asked["trusted"] = inputs
        return {"epochs": 1, "val_accuracy": self.reference, "by_epoch": [self.reference]}


@pytest.mark.parametrize("accuracy, reference, status, fragment", [
    (0.55, 0.90, PASSED, ""),
    (0.45, 0.90, FAILED, "the least accepted is 0.500"),
    (0.15, 0.05, FAILED, "the least accepted is 0.200 (the rubric's floor"),
    (0.25, 0.05, PASSED, ""),
])
def test_the_retrain_threshold_is_the_reference_minus_the_margin_never_below_the_floor(accuracy, reference, status,
                                                                                       fragment):
    mnist = fake_mnist()
    side = Retraining(accuracy, reference, mnist)
    check = CheckContext("q1.reported.retrain", 2.0, True)
    grader.test_reported_point_retrains(side, side, mnist, SETTINGS, 1234, check)
    judged = verdict(check)
    assert judged.status == status and fragment in judged.message
    assert side.asked["probe"]["seed"] == SETTINGS.retrain_seed and side.asked["probe"]["adapt_labels"] is True
    assert side.asked["probe"]["epochs"] == 1 + SETTINGS.retrain_extra_epochs and side.asked["probe"]["each_epoch"]
    assert "y_val" not in side.asked["probe"], "the validation labels stay in the grader"
    asked = side.asked["trusted"]
    assert asked["seed"] == SETTINGS.retrain_seed and asked["values"] == REFERENCE_POINT
    assert (asked["target"], asked["max_epochs"]) == (SETTINGS.retrain_target, SETTINGS.retrain_max_epochs)
    assert math.isclose(asked["timeout_s"], SETTINGS.retrain_reference_timeout_s)


def test_the_reference_retrains_on_the_same_digits_whatever_the_grading_seed():
    """The embedded data set is split by the grading's seed; the reference's digits are not."""
    x = np.random.default_rng(3).integers(0, 256, (3000, 28, 28), dtype=np.uint8)
    y = np.random.default_rng(4).integers(0, 10, 3000)
    digests = set()
    for seed in (1, 2, 2**63 + 5):
        order = np.random.default_rng(seed).permutation(3000)
        split = SimpleNamespace(x_train=x[order[:2400]], y_train=y[order[:2400]], x_test=x[order[2400:]],
                                y_test=y[order[2400:]])
        data = grader.reference_data(split, SETTINGS)
        digests.add(hash((data.x_train.tobytes(), data.y_val.tobytes())))
        assert len(data.y_train) == SETTINGS.retrain_train and len(data.y_val) == SETTINGS.retrain_val
    assert len(digests) == 1


def test_points_of_the_budget_are_named_in_spec_words():
    assert points.point_text(points.expand(dict(SETTINGS.budget_point))).startswith("conv_layers=2, filters_{i}=32")


def test_a_schedule_from_the_tuned_rate_passes_the_learning_rate_check_with_a_remark():
    from tests.reference.test_reference_q1 import builds

    made = builds()
    check = CheckContext("q1.space.learning_rate", 1.0, False)
    declared = {"learning_rate": {"name": "learning_rate", "type": "Choice", "values": [1e-4, 5e-4, 1e-3],
                                  "sampling": None}}
    check.observe("space_family", family="learning_rate", declared=declared, bases={}, deepest_layers=[],
                  failed_builds=[], builds=[{"corner": b.label, "values": b.values, "result": {
                      "error": None, "layers": list(b.layers), "learning_rate": b.learning_rate,
                      "learning_rate_schedule": "ExponentialDecay"}} for b in made])
    judged = verdict(check)
    assert judged.status == PASSED and "a schedule (ExponentialDecay) that starts at the tuned" in judged.details["remark"]
