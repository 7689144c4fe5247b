"""Checks reference.q1_tuner: it builds at the corners of the space, its tuner is a Hyperband on
val_accuracy, its space is the one DESIGN.md specifies; and the q1 space rules and the hidden
retrain check behave as the graders rely on."""

import itertools
import json
import os
import re
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graders import test_q1_tuner as grader  # noqa: E402
from graders.harness.errors import CheckFailed  # noqa: E402
from graders.questions import q1_space as space  # noqa: E402
from graders.inside.probes import q1 as probe  # noqa: E402
from reference import q1_tuner as ref  # noqa: E402
from tests.grading import PROJECT, run_grader, sample_path  # noqa: E402

pytestmark = pytest.mark.slow  # grades in a subprocess, starts workers or trains

DESIGN = PROJECT.parent / "shared" / "DESIGN.md"
SEARCH_RESULTS = PROJECT / "reference" / "q1_search_results.json"


def _hp(values: dict) -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.values.update(values)
    return hp


@pytest.mark.parametrize("conv_layers, kernel, filters, dense_layers",
                         list(itertools.product((2, 5), (3, 5), (32, 256), (2, 5))))
def test_reference_builds_at_every_corner_of_the_conv_stack(conv_layers, kernel, filters, dense_layers):
    rate = 1e-3 if filters == 256 else 1e-4
    values = space.point(conv_layers=conv_layers, filters=filters, kernel=kernel, dense_layers=dense_layers,
                         units=256 if dense_layers == 5 else 32, dropout=0.5, learning_rate=rate)
    model = ref.build_model(_hp(values))
    outputs = np.asarray(model(np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)))
    assert outputs.shape == (3, 10)
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, atol=1e-5)
    assert sum(type(layer).__name__ == "Conv2D" for layer in model.layers) == conv_layers
    assert sum(type(layer).__name__ == "Dropout" for layer in model.layers) == dense_layers
    assert model.loss == "sparse_categorical_crossentropy"
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(rate, rel=1e-6)


def test_make_tuner_returns_a_hyperband_on_val_accuracy_in_the_given_folder(tmp_path):
    tuner = ref.make_tuner(ref.build_model, str(tmp_path), "q1_test")
    assert isinstance(tuner, kt.Hyperband)
    assert (tuner.oracle.objective.name, tuner.oracle.objective.direction) == ("val_accuracy", "max")
    assert tuner.oracle.factor == 3
    assert os.path.realpath(tuner.project_dir).startswith(os.path.realpath(tmp_path))


def test_reference_declares_exactly_the_specified_space():
    declared = probe.declared_space(build_model=ref.build_model, counts=dict(space.MAX_LAYERS))
    assert [build["error"] for build in declared["builds"]] == [None, None]
    by_name = {h["name"]: h for h in declared["hyperparameters"]}
    deepest = declared["builds"][-1]["layers"]
    for family in space.SPACE:
        assert space.family_differences(family, by_name, deepest) == [], family.name
    assert all(space.family_of(name) is not None for name in by_name), "a hyperparameter outside the spec"


def test_spec_matches_design_md():
    if not DESIGN.exists():
        pytest.skip(f"{DESIGN} is not in this checkout")
    text = DESIGN.read_text(encoding="utf-8")
    line = re.search(r"The q1 search space:(.*?)Hyperband on `val_accuracy`", text, re.S).group(1)
    entries = [entry.strip() for entry in " ".join(line.split()).split(";") if entry.strip()]
    assert len(entries) == len(space.SPACE)
    for entry, family in zip(entries, space.SPACE):
        name, rest = re.fullmatch(r"`([^`]+)` (.+)", entry).groups()
        assert name == family.label
        design = rest.replace("×", "x")
        if family.kind == "Choice":
            choices = tuple(float(v) for v in re.fullmatch(r"Choice \{(.+)\}", design).group(1).split(","))
            assert choices == tuple(float(c) for c in family.choices)
        else:
            kind, low, high, step = re.fullmatch(r"(Int|Float) ([\d.]+)\.\.([\d.]+)(?: step ([\d.]+))?", design).groups()
            assert (kind, float(low), float(high)) == (family.kind, family.low, family.high)
            assert step is None or float(step) == family.step
    assert "Hyperband on `val_accuracy`" in text


def test_recorded_search_matches_the_reference_literals():
    results = json.loads(SEARCH_RESULTS.read_text(encoding="utf-8"))
    assert results["best_hyperparameters"] == ref.BEST_HYPERPARAMETERS
    assert results["best_val_accuracy"] == pytest.approx(ref.BEST_VAL_ACCURACY, abs=5e-5)
    assert results["trials_completed"] >= 1 and results["seconds"] > 0
    assert space.reported_differences(ref.BEST_HYPERPARAMETERS) == []


# -- the space rules, on declarations a student might write --------------------------------------

def _declared(**families) -> dict:
    """{name: description} from {family: [index, ...] or None for one unindexed declaration}."""
    result = {}
    for name, indices in families.items():
        family = space.FAMILIES[name]
        description = {"type": family.kind, "min": family.low, "max": family.high, "step": family.step or 1,
                       "sampling": "linear", "values": list(family.choices) or None}
        for key in [name] if indices is None else [f"{name}_{i}" for i in indices]:
            result[key] = {**description, "name": key}
    return result


def test_dropout_declared_once_after_the_dense_loop_is_named():
    layers = ["Conv2D", "MaxPooling2D", "Flatten"] + ["Dense"] * 5 + ["Dropout", "Dense"]
    differences = space.family_differences(space.FAMILIES["dropout"], _declared(dropout=None), layers)
    assert differences == ["dropout_{i}: declared once (as 'dropout') after the dense loop; expected one per "
                           "dense layer (dropout_0..dropout_4 when dense_layers=5)"]


def test_indices_from_one_are_accepted_and_a_missing_layer_is_named():
    assert space.family_differences(space.FAMILIES["units"], _declared(units=range(1, 6)), []) == []
    differences = space.family_differences(space.FAMILIES["units"], _declared(units=range(3)), [])
    assert differences == ["units_{i}: declared for 3 of 5 dense layers when dense_layers=5; missing units_3, units_4"]


def test_a_wrong_range_names_the_declared_and_the_expected_values():
    declared = _declared(filters=range(5))
    for name in declared:
        declared[name]["max"] = 128
    differences = space.family_differences(space.FAMILIES["filters"], declared, [])
    assert differences == ["filters_{i}: filters_0..filters_4 are Int 32..128; expected Int 32..256"]


def test_reported_values_outside_the_space_are_named():
    best = {**ref.BEST_HYPERPARAMETERS, "kernel_0": 7, "learning_rate": 0.01, "tuner/epochs": 9}
    differences = space.reported_differences(best)
    assert "kernel_0=7 (expected Choice {3, 5})" in differences
    assert "learning_rate=0.01 (expected Choice {0.0001, 0.0005, 0.001})" in differences
    assert len(differences) == 2


def test_one_line_cause_of_a_keras_error():
    error = ValueError("Exception encountered when calling Conv2D.call().\n\n\x1b[1mNegative dimension size\x1b[0m\n\n"
                       "Arguments received by Conv2D.call():\n  • inputs=tf.Tensor(shape=(None, 1, 1, 32))")
    assert probe.one_line(error) == "ValueError: Negative dimension size"
    trace = "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: Computed output size would be zero"
    assert probe.one_line(trace) == "ValueError: Computed output size would be zero"


def test_a_search_whose_every_trial_fails_is_reported_as_such(tmp_path, monkeypatch):
    """Compiled without metrics=["accuracy"], no trial reports val_accuracy: every trial fails."""
    def build_without_metrics(hp):
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                      loss="sparse_categorical_crossentropy")
        return model

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    rng = np.random.default_rng(0)
    x, y = rng.random((128, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 128)
    result = probe.capped_search(build_model=build_without_metrics, make_tuner=ref.make_tuner, fixed=space.expand({"conv_layers": 2, "filters": 32, "dense_layers": 2,
                                                                "units": 32}),
                                 x_train=x[:64], y_train=y[:64], x_val=x[64:], y_val=y[64:], max_trials=2,
                                 max_epochs=1, batch_size=64)
    assert result["search"]["best_score"] is None
    assert [trial["status"] for trial in result["search"]["trials"]] == ["FAILED", "FAILED"]
    assert list(tmp_path.iterdir()) == [], "the trial folders are removed"
    with pytest.raises(CheckFailed, match=r"every trial failed \(2 of 2: FAILED\).*'val_accuracy'.*metrics=\['accuracy'\]"):
        grader.test_capped_search_completes(result, SimpleNamespace(details={}))


# -- the hidden check: retraining the reported best point ----------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("sample, status", [("reference", "passed"), ("q1_breaks_at_5_conv_5x5", "failed")])
def test_hidden_retrain_of_the_reported_point(sample, status, tmp_path):
    result, process = run_grader(sample_path(sample), tmp_path, questions=["q1"], args=["--hidden", "-k", "retrain"])
    assert result is not None, process.output[-6000:]
    checks = {check["id"]: check for q in result["questions"] for check in q["checks"]}
    assert checks["q1.reported.retrain"]["status"] == status, checks["q1.reported.retrain"]["message"]
    if status == "failed":
        assert "retraining BEST_HYPERPARAMETERS" in checks["q1.reported.retrain"]["message"]
        assert "Computed output size would be zero or negative" in checks["q1.reported.retrain"]["message"]
