"""No label or target of a graded split crosses into the worker (issue 12): q1's budgeted training and
hidden retrain, q3's R², q7's CNN training and Grad-CAM calls.

Each test grades the reference in this process (isolation "process": a real worker, no sandbox)
while recording every value the grading process encodes for the worker, then looks for the graded
split's labels among the arrays it sent. All slow: each starts a worker and trains.
"""

import numpy as np
import pytest

from graders import test_q1_tuner as q1
from graders import test_q3_regressor as q3
from graders.core.mnist import load_mnist
from graders.core.options import GradingOptions
from graders.core.rubric import Rubric
from graders.core.seeds import DEFAULT_SEED
from graders.harness.run import grade
from tests.grading import REFERENCE

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy")]


def arrays_in(value):
    """Every array inside a request's plain data (dicts, lists and tuples walked; a list of numbers
    counts as an array)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from arrays_in(item)
    elif isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            yield np.asarray(value)
        for item in value:
            yield from arrays_in(item)


def record_requests(monkeypatch) -> list:
    """Every value the grading process encodes for the worker (write_frame encodes through it too)."""
    from graders.inside import wire

    sent, encode = [], wire.encode
    monkeypatch.setattr(wire, "encode", lambda value, *args, **kwargs: sent.append(value) or encode(value, *args, **kwargs))
    return sent


def graded_statuses(tmp_path, **options) -> dict:
    graded = grade(GradingOptions(submission=str(REFERENCE), seed=DEFAULT_SEED, isolation="process",
                                  extra_args=("-q",), **options).with_outputs(tmp_path))
    assert graded.data is not None
    return {c["id"]: c["status"] for q in graded.data["questions"] for c in q["checks"]}


def probe_requests(sent: list) -> list[dict]:
    return [request for request in sent if isinstance(request, dict) and request.get("op") == "probe"]


def test_q1_sends_validation_digits_never_their_labels(monkeypatch, tmp_path):
    """The budgeted training and the hidden retrain still grade the reference as passed: the
    accuracy is computed in the grading process."""
    sent = record_requests(monkeypatch)
    statuses = graded_statuses(tmp_path, questions=("q1",), hidden=True,
                               select="budgeted or capped or retrains")
    assert statuses == {"q1.train.budget": "passed", "q1.tuner.search": "passed", "q1.reported.retrain": "passed"}
    settings = Rubric.load().section("q1", q1.Settings)
    mnist = load_mnist(seed=DEFAULT_SEED)
    budget, retrain = (q1.budget_data(mnist, DEFAULT_SEED, settings, retrain=r) for r in (False, True))
    arrays = [array for value in sent for array in arrays_in(value)]
    assert any(np.array_equal(a, budget.x_val) for a in arrays), "the budget's validation digits were sent"
    assert any(np.array_equal(a, retrain.x_val) for a in arrays), "the retrain's validation digits were sent"
    graded_labels = {tuple(labels) for labels in (budget.y_val, retrain.y_val)}
    leaked = [a.shape for a in arrays if a.ndim == 1 and tuple(a.tolist()) in graded_labels]
    assert leaked == [], "a graded split's labels were sent to the worker"


def test_q3_sends_test_features_never_their_targets(monkeypatch, tmp_path):
    """preprocess gets X_test and the trained model predicts it; R² is computed in the grading process."""
    sent = record_requests(monkeypatch)
    statuses = graded_statuses(tmp_path, questions=("q3",), select="r2")
    assert statuses == {"q3.r2.linear": "passed", "q3.r2.friedman": "passed"}
    settings = Rubric.load().section("q3", q3.Settings)
    arrays = [array for value in sent for array in arrays_in(value)]
    for name in q3.SETS:
        data = q3.regression_set(name, DEFAULT_SEED, settings)
        assert any(np.array_equal(a, data.X_test) for a in arrays), f"{name}: X_test was sent to preprocess"
        assert any(np.array_equal(a, data.y_train) for a in arrays), f"{name}: the training targets were sent"
        assert not any(a.shape == data.y_test.shape and np.allclose(a, data.y_test) for a in arrays), \
            f"{name}: the test targets were sent to the worker"


def test_q7_sends_no_test_label_and_grad_cam_gets_images_and_classes_only(monkeypatch, tmp_path):
    sent = record_requests(monkeypatch)
    statuses = graded_statuses(tmp_path, questions=("q7",))
    assert set(statuses.values()) == {"passed"}, statuses
    split = load_mnist(seed=DEFAULT_SEED)
    requests = probe_requests(sent)
    assert {request["name"] for request in requests} >= {"train_cnn", "grad_cam_maps"}
    training = next(request for request in requests if request["name"] == "train_cnn")
    assert any(np.array_equal(value, split.y_train) for value in arrays_in(training))  # the search finds labels
    for request in requests:
        for value in arrays_in(request["kwargs"]):
            assert not (value.shape == split.y_test.shape and np.array_equal(value, split.y_test)), request["name"]
        if request["name"] == "train_cnn":
            assert set(request["kwargs"]) == {"x_train", "y_train", "x_test", "epochs", "batch_size"}
        if request["name"] == "grad_cam_maps":
            assert set(request["kwargs"]) == {"models", "images", "requests"}
            assert all(c is None or isinstance(c, int) for _, _, _, c, _ in request["kwargs"]["requests"])
