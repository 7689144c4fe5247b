"""The q7 CNN training check's hints: each names what the calibration found keeps a model from learning."""

import numpy as np
import pytest

from graders.questions.q7.cnn_training import hints

PARAMS = 130_890
ALL_FINITE = np.ones(8, dtype=bool)


def model(**fields) -> dict:
    return {"optimizer": "Adam", "learning_rate": 1e-3, "momentum": None, "params": PARAMS, **fields}


def test_the_homework_model_with_adam_gets_no_hint():
    assert hints(model(), ALL_FINITE, PARAMS) == []


@pytest.mark.parametrize("fields, fragment", [
    ({"optimizer": "SGD", "learning_rate": 0.01}, "plain SGD (no momentum) at learning rate 0.01"),
    ({"optimizer": "Adagrad", "learning_rate": 0.001}, "Adagrad at learning rate 0.001"),
    ({"learning_rate": 1e-5}, "learning rate 1e-05: the slowest measured to pass is 1e-4"),
    ({"params": 1234}, "the model has 1234 parameters; the homework's CNN has 130,890"),
])
def test_each_measured_cause_is_named(fields, fragment):
    assert [hint for hint in hints(model(**fields), ALL_FINITE, PARAMS) if fragment in hint]


def test_sgd_with_momentum_is_not_blamed_and_divergence_is_counted():
    assert hints(model(optimizer="SGD", learning_rate=0.01, momentum=0.9), ALL_FINITE, PARAMS) == []
    finite = ALL_FINITE.copy()
    finite[:3] = False
    assert "3 test digits got NaN or inf outputs" in hints(model(), finite, PARAMS)[0]
