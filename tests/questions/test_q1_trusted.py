"""q1's trusted computation (graders/questions/q1/trusted.py): the reference's accuracy at a reported point is
computed only for a point of the space, in a child process with its own time and memory budget, and cached
by what it depends on (never the grading's seed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from graders.core.errors import HarnessError
from graders.questions.q1 import trusted

POINT = {"conv_layers": 2, "filters_0": 32, "kernel_0": 3, "filters_1": 32, "kernel_1": 3, "dense_layers": 2,
         "units_0": 32, "dropout_0": 0.0, "units_1": 32, "dropout_1": 0.0, "learning_rate": 1e-3}


def test_the_reference_gets_only_a_validated_point_in_its_own_names_and_types():
    one_based = {"conv_layers": 2, "filters_1": 64.0, "filters_2": 96, "kernel_1": 5, "kernel_2": 3,
                 "dense_layers": 2, "units_1": 128, "units_2": 32, "dropout_1": 0.2, "dropout_2": 0,
                 "learning_rate": 0.0005, "activation": "relu", "filters_3": 256, "kernel_3": 5}
    point = trusted.reference_point(one_based)
    assert point == {"conv_layers": 2, "filters_0": 64, "filters_1": 96, "kernel_0": 5, "kernel_1": 3,
                     "dense_layers": 2, "units_0": 128, "units_1": 32, "dropout_0": 0.2, "dropout_1": 0.0,
                     "learning_rate": 0.0005}
    assert all(type(point[name]) is int for name in ("filters_0", "kernel_0", "units_0", "conv_layers"))
    for outside in ({"filters_0": 10**6}, {"learning_rate": 10.0}, {"kernel_0": True}, {"units_1": "64"}):
        with pytest.raises(HarnessError, match="never trained outside the search space"):
            trusted.reference_point({**POINT, **outside})


def digits(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


def request(tmp_path, **changes) -> dict:
    (x_train, y_train), (x_val, y_val) = digits(64), digits(32, 1)
    return {"values": POINT, "x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val, "epochs": 1,
            "max_epochs": 3, "target": 0.99, "batch_size": 16, "seed": 0, "timeout_s": 80, "memory_gib": 6,
            "directory": tmp_path, **changes}


def test_a_cached_accuracy_is_read_back_without_training(tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("trained although cached")

    inputs = request(tmp_path)
    point = trusted.reference_point(POINT)
    data = {name: inputs[name] for name in ("x_train", "y_train", "x_val", "y_val")}
    budget = {"epochs": 1, "max_epochs": 3, "target": 0.99, "batch_size": 16, "seed": 0}
    key = trusted._cache_key(point, data, budget)
    cached = {"epochs": 2, "val_accuracy": 0.625, "by_epoch": [0.5, 0.625]}
    (tmp_path / f"q1-reference-accuracy-{key}.json").write_text(json.dumps({"reference": cached}))
    monkeypatch.setattr(trusted, "_train_in_child", never)
    assert trusted.retrain_reference(**inputs) == cached
    assert trusted._cache_key(point, {**data, "y_val": data["y_val"][::-1].copy()}, budget) != key, "the digits count"
    assert trusted._cache_key(point, data, {**budget, "target": 0.5}) != key, "so does the budget"


@pytest.mark.slow
def test_the_reference_trains_in_its_own_process_until_its_target_and_is_cached(tmp_path, monkeypatch):
    """Random digits: the reference never reaches 0.99, so it trains every epoch it may; with a target of 0
    it stops after the least it must train."""
    result = trusted.retrain_reference(**request(tmp_path))
    assert result["epochs"] == 3 and len(result["by_epoch"]) == 3 and result["val_accuracy"] == result["by_epoch"][-1]
    assert all(0.0 <= accuracy <= 1.0 for accuracy in result["by_epoch"])
    assert trusted.retrain_reference(**request(tmp_path, target=0.0, epochs=2))["epochs"] == 2
    assert len(list(tmp_path.glob("q1-reference-accuracy-*.json"))) == 2
    monkeypatch.setattr(trusted, "_train_in_child", lambda *a, **k: pytest.fail("trained twice"))
    assert trusted.retrain_reference(**request(tmp_path)) == result


@pytest.mark.slow
@pytest.mark.parametrize("budget, fragment", [({"timeout_s": 1}, "ran past its budget of 3 s"),
                                              ({"memory_gib": 0.25}, "memory budget 0.25 GiB")])
def test_a_reference_over_its_budget_is_stopped_and_said_to_be_the_graders_error(budget, fragment, tmp_path):
    with pytest.raises(HarnessError, match=fragment):
        trusted.retrain_reference(**request(tmp_path, **budget))
    assert list(tmp_path.glob("q1-reference-accuracy-*.json")) == [], "a failure is not cached"
