"""The q7 CNN training check: its judge (the policies: one-hot labels, no softmax, the accuracy) and its hints, each
naming what the calibration found keeps a model from learning."""

import json

import pytest

from graders.core import judging
from graders.core.rubric import Rubric
from graders.questions.q7.cnn_training import hints
from graders.questions.q7.judges import JUDGES, Settings

PARAMS = 130_890


def model(**fields) -> dict:
    return {"optimizer": "Adam", "learning_rate": 1e-3, "momentum": None, "params": PARAMS, **fields}


def test_the_homework_model_with_adam_gets_no_hint():
    assert hints(model(), 0, PARAMS) == []


@pytest.mark.parametrize("fields, fragment", [
    ({"optimizer": "SGD", "learning_rate": 0.01}, "plain SGD (no momentum) at learning rate 0.01"),
    ({"optimizer": "Adagrad", "learning_rate": 0.001}, "Adagrad at learning rate 0.001"),
    ({"learning_rate": 1e-5}, "learning rate 1e-05: the slowest measured to pass is 1e-4"),
    ({"params": 1234}, "the model has 1234 parameters; the homework's CNN has 130,890"),
])
def test_each_measured_cause_is_named(fields, fragment):
    assert [hint for hint in hints(model(**fields), 0, PARAMS) if fragment in hint]


def test_sgd_with_momentum_is_not_blamed_and_divergence_is_counted():
    assert hints(model(optimizer="SGD", learning_rate=0.01, momentum=0.9), 0, PARAMS) == []
    assert "3 test digits got NaN or inf outputs" in hints(model(), 3, PARAMS)[0]


def judged(model_fields: dict, accuracy: float = 0.95, **extra):
    described = {"loss": "sparse_categorical_crossentropy", "one_hot_loss": False, "output_activation": "softmax",
                 "from_logits": False, "kind": "Functional", "input_scale": 1.0, **model(**model_fields)}
    observations = {"model": described, "accuracy": accuracy, "nonfinite": 0, "epochs": 2, "n_train": 4000, **extra,
                    judging.JUDGE: "cnn_train"}
    stored = json.loads(json.dumps(judging.normalise(observations)))
    return judging.judge(JUDGES, stored, Rubric.load().section("q7", Settings))


def test_a_model_for_one_hot_labels_fails_naming_the_sparse_loss_whatever_its_accuracy():
    verdict = judged({"loss": "categorical_crossentropy", "one_hot_loss": True})
    assert verdict.status == "failed" and "sparse_categorical_crossentropy" in verdict.message
    assert "'categorical_crossentropy'" in verdict.message and "integer labels" in verdict.message
    one_hot_only = {"model": {**model(), "loss": "categorical_crossentropy", "one_hot_loss": True},
                    judging.JUDGE: "cnn_train"}  # the probe does not train it: no accuracy observed
    assert judging.judge(JUDGES, judging.normalise(one_hot_only), Rubric.load().section("q7", Settings)).status == \
        "failed"


def test_the_accuracy_threshold_and_the_softmax_policy_are_judged():
    assert judged({}).status == "passed"
    low = judged({}, accuracy=0.3)
    assert low.status == "failed" and "test accuracy 0.300 after 2 epoch(s) on 4,000 digits" in low.message
    linear = judged({"output_activation": "linear"})
    assert linear.status == "failed" and "use activation=\"softmax\"" in linear.message
    assert judged({"output_activation": "linear", "from_logits": True}).status == "passed"
