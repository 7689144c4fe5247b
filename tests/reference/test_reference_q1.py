"""Checks reference.q1_tuner and the q1 grading rules: the space is compared by value sets, every
hyperparameter must take effect in the built model, any optimizer at the tuned rate is right,
validation labels never reach the worker, and missing reported results score 0.

The rules are tested on plain data first (fast); the tests that import TensorFlow, build models,
start workers or grade are marked slow.
"""

import ast
import json
import os
import re
from types import SimpleNamespace

import numpy as np
import pytest

from graders import test_q1_tuner as grader
from graders.core.errors import MissingName
from graders.core.judging import judge, normalise
from graders.harness.checks import CheckContext
from graders.questions.q1 import effects, points, space
from graders.questions.q1.diagnosis import model_problems
from graders.questions.q1.judges import JUDGES
from tests.grading import PROJECT, run_grader, sample_path
from tests.reference.in_process import rubric_settings

SETTINGS = rubric_settings("q1", grader.Settings)

DESIGN = PROJECT.parent / "shared" / "DESIGN.md"
SEARCH_RESULTS = PROJECT / "reference" / "q1_search_results.json"


def declaration(kind, **fields) -> dict:
    return {"type": kind, "sampling": "linear", **fields}


def difference(family: str, declared: dict) -> str:
    listing = declared["type"] in ("Choice", "Fixed")
    return space.set_difference(space.FAMILIES[family], space.value_set(declared), described_by_values=listing)


# -- the space: value sets, not declarations ------------------------------------------------------

@pytest.mark.parametrize("family, declared", [
    ("conv_layers", declaration("Choice", values=[2, 3, 4, 5])),
    ("conv_layers", declaration("Int", min=2, max=5, step=1)),
    ("dense_layers", declaration("Choice", values=[5, 4, 3, 2])),
    ("kernel", declaration("Int", min=3, max=5, step=2)),
    ("kernel", declaration("Choice", values=[3, 5])),
    ("filters", declaration("Int", min=32, max=256, step=32)),
    ("filters", declaration("Int", min=32, max=256, step=1)),
    ("filters", declaration("Int", min=32, max=256, step=2, sampling="log")),
    ("filters", declaration("Choice", values=[32, 64, 128, 256])),
    ("units", declaration("Int", min=32, max=256, step=16)),
    ("units", declaration("Int", min=32, max=256, step=None, sampling="log")),
    ("dropout", declaration("Float", min=0.0, max=0.5, step=0.1)),  # KerasTuner itself never samples 0.5 here
    ("dropout", declaration("Choice", values=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5])),
    ("learning_rate", declaration("Choice", values=[1e-3, 5e-4, 1e-4])),
], ids=lambda value: value if isinstance(value, str) else space.describe(value))
def test_the_same_values_declared_another_way_are_right(family, declared):
    assert difference(family, declared) == ""


@pytest.mark.parametrize("family, declared, fragment", [
    ("conv_layers", declaration("Int", min=2, max=4, step=1), "(the values {2, 3, 4}); expected Int 2..5, the values {2, 3, 4, 5}"),
    ("kernel", declaration("Choice", values=[3]), "; expected Choice {3, 5}"),
    ("kernel", declaration("Int", min=3, max=5, step=1), "(the values {3, 4, 5}); expected Choice {3, 5}"),
    ("filters", declaration("Int", min=32, max=256, step=64), "its largest value is 224"),
    ("filters", declaration("Int", min=16, max=256, step=16), "its smallest value is 16"),
    ("units", declaration("Float", min=32, max=256, step=None), "it takes any value from 32 to 256"),
    ("dropout", declaration("Float", min=0.0, max=0.5, step=None), "expected the values {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}"),
    ("dropout", declaration("Float", min=0.0, max=0.5, step=0.05), "11 values {0.0, 0.05, ..., 0.5}"),
    ("learning_rate", declaration("Float", min=1e-4, max=1e-3, step=None, sampling="log"), "any value from 0.0001"),
    ("learning_rate", declaration("Choice", values=["1e-3", "1e-4"]), "not numbers"),
], ids=lambda value: value if isinstance(value, str) and len(value) < 20 else "")
def test_other_values_are_named(family, declared, fragment):
    assert fragment in difference(family, declared)


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
    assert space.index_base("units", _declared(units=range(1, 6))) == 1
    differences = space.family_differences(space.FAMILIES["units"], _declared(units=range(3)), [])
    assert differences == ["units_{i}: declared for 3 of 5 dense layers when dense_layers=5; missing units_3, units_4"]


def test_a_wrong_range_names_the_declared_and_the_expected_values():
    declared = _declared(filters=range(5))
    for name in declared:
        declared[name]["max"] = 128
    differences = space.family_differences(space.FAMILIES["filters"], declared, [])
    assert differences == ["filters_{i}: filters_0..filters_4 are Int 32..128 (its largest value is 128); "
                           "expected Int 32..256 (any step that reaches 256)"]


def reference_literal(name: str):
    """A literal of reference/q1_tuner.py, read without importing it (that would import TensorFlow)."""
    tree = ast.parse((PROJECT / "reference" / "q1_tuner.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise KeyError(name)


def test_reported_values_outside_the_space_are_named():
    best = {**reference_literal("BEST_HYPERPARAMETERS"), "kernel_0": 7, "learning_rate": 0.01, "filters_1": 48, "tuner/epochs": 9}
    differences = space.reported_differences(best)
    assert "kernel_0=7 (expected Choice {3, 5})" in differences
    assert "learning_rate=0.01 (expected Choice {0.0001, 0.0005, 0.001})" in differences
    assert len(differences) == 2, "filters_1=48 is inside Int 32..256 (a step of 16)"


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
            assert (step is None) == family.bounds_only or family.step == 1
    assert "Hyperband on `val_accuracy`" in text


def test_recorded_search_matches_the_reference_literals():
    results = json.loads(SEARCH_RESULTS.read_text(encoding="utf-8"))
    assert results["best_hyperparameters"] == reference_literal("BEST_HYPERPARAMETERS")
    assert results["best_val_accuracy"] == pytest.approx(reference_literal("BEST_VAL_ACCURACY"), abs=5e-5)
    assert results["trials_completed"] >= 1 and results["seconds"] > 0
    assert space.reported_differences(reference_literal("BEST_HYPERPARAMETERS")) == []


# -- every hyperparameter takes effect (on described models: what the corner_build probe returns) ---

def conv(filters, kernel, activation="relu"):
    return {"class": "Conv2D", "kind": "conv", "filters": filters, "kernel": [kernel, kernel], "activation": activation}


def dense(units, activation="relu"):
    return {"class": "Dense", "kind": "dense", "units": units, "activation": activation}


def dropout(rate):
    return {"class": "Dropout", "kind": "dropout", "rate": rate}


def faithful(values: dict, bases: dict, *, skip_zero_dropout=False) -> tuple:
    """The layers a correct build_model makes at `values`."""
    layers = []
    for f, k in zip(points.layer_values(values, "filters", bases), points.layer_values(values, "kernel", bases)):
        layers += [conv(f, k), {"class": "MaxPooling2D", "kind": None}]
    layers.append({"class": "Flatten", "kind": None})
    for u, d in zip(points.layer_values(values, "units", bases), points.layer_values(values, "dropout", bases)):
        layers += [dense(u)] + ([] if skip_zero_dropout and d == 0 else [dropout(d)])
    return tuple(layers + [dense(10, "softmax")])


def builds(bases=None, *, change=lambda layers, values: layers, rate=lambda values: values["learning_rate"],
           skip_zero_dropout=False) -> list:
    bases = bases or {}
    made = []
    for corner in grader.CORNERS:
        values = grader.corner_point(corner, bases)
        layers = change(list(faithful(values, bases, skip_zero_dropout=skip_zero_dropout)), values)
        made.append(effects.Build(corner, values, bases, tuple(layers), rate(values)))
    return made


def effect_failures(made) -> dict:
    found = {name: effects.family_effect(name, made, learning_rate_rtol=1e-5) for name in space.FAMILIES}
    return {name: message for name, message in found.items() if message}


def test_a_faithful_model_shows_every_hyperparameter_in_both_index_bases():
    assert effect_failures(builds()) == {}
    ones = {name: 1 for name in ("filters", "kernel", "units", "dropout")}
    assert effect_failures(builds(ones)) == {}
    assert effect_failures(builds(skip_zero_dropout=True)) == {}, "Dropout(0.0) left out is the same model"


def test_a_kernel_that_is_always_3x3_loses_the_kernel_check_only():
    def always_3x3(layers, values):
        return [conv(layer["filters"], 3) if layer.get("kind") == "conv" else layer for layer in layers]

    failures = effect_failures(builds(change=always_3x3))
    assert list(failures) == ["kernel"]
    assert "kernel_{i} is declared but has no effect: every Conv2D kernel is 3x3" in failures["kernel"]


def test_a_fixed_learning_rate_loses_the_learning_rate_check_only_and_a_schedule_from_the_tuned_rate_is_it():
    failures = effect_failures(builds(rate=lambda values: 1e-3))
    assert list(failures) == ["learning_rate"]
    assert "the model has an optimizer with learning rate 0.001 at every build" in failures["learning_rate"]
    made = [effects.Build(b.label, b.values, b.bases, b.layers, b.learning_rate, None, "ExponentialDecay")
            for b in builds()]
    assert effect_failures(made) == {}
    fixed = [effects.Build(b.label, b.values, b.bases, b.layers, 1e-3, None, "ExponentialDecay") for b in builds()]
    assert "(a ExponentialDecay starting at it) at every build" in effect_failures(fixed)["learning_rate"]


def test_one_rate_for_every_layer_or_one_extra_conv_loses_only_its_own_family():
    def first_filters_everywhere(layers, values):
        first = points.layer_values(values, "filters", {})[0]
        return [conv(first, layer["kernel"][0]) if layer.get("kind") == "conv" else layer for layer in layers]

    assert list(effect_failures(builds(change=first_filters_everywhere))) == ["filters"]

    def extra_fixed_conv(layers, values):
        return [conv(16, 3)] + layers

    assert list(effect_failures(builds(change=extra_fixed_conv))) == ["conv_layers"]

    def three_dense_always(layers, values):
        hidden = [layer for layer in layers if layer.get("kind") == "dense"][:-1]
        head = [dense(layer["units"]) for layer in (hidden * 3)[:3]]
        return [layer for layer in layers if layer.get("kind") != "dense" and layer.get("kind") != "dropout"] \
            + head + [dense(10, "softmax")]

    failures = effect_failures(builds(change=three_dense_always))
    assert "dense_layers" in failures and "3 hidden Dense layers before the output layer" in failures["dense_layers"]
    assert "units" not in failures


def test_a_fixed_dropout_rate_is_named():
    def half_everywhere(layers, values):
        return [dropout(0.5) if layer.get("kind") == "dropout" else layer for layer in layers]

    failures = effect_failures(builds(change=half_everywhere))
    assert list(failures) == ["dropout"] and "Dropout rates 0.5/0.5" in failures["dropout"]


# -- missing reported results score 0 ---------------------------------------------------------------

def test_missing_reported_results_fail_instead_of_being_skipped():
    class Without:
        def get(self, name, timeout=None):
            raise MissingName(f"`{name}` is not defined in your submission")

    check = CheckContext("q1.reported.hyperparameters", 1.0, False)
    with pytest.raises(MissingName, match="BEST_HYPERPARAMETERS"):
        grader.test_reported_hyperparameters_inside_space(Without(), check)
    with pytest.raises(MissingName, match="BEST_VAL_ACCURACY"):
        grader.test_reported_val_accuracy_plausible(Without(), check)


# -- with TensorFlow: the reference, the probes and whole gradings (slow) ---------------------------

@pytest.fixture(scope="module")
def tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import keras_tuner as kt

    from graders.inside.probes import q1 as probe
    from reference import q1_tuner as ref

    return SimpleNamespace(keras=keras, kt=kt, probe=probe, ref=ref)


def probe_builds(tf, build_model) -> list:
    """The corner builds of `build_model` as the grader makes them, in this process."""
    declared = tf.probe.declared_space(build_model=build_model, counts=dict(space.MAX_LAYERS))
    by_name = {h["name"]: h for h in declared["hyperparameters"]}
    bases = {family.name: space.index_base(family.name, by_name) for family in space.SPACE if family.per}
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    made = []
    for corner in grader.CORNERS:
        values = grader.corner_point(corner, bases)
        result = tf.probe.corner_build(build_model=build_model, values=values, images=images)
        assert not result["error"], result["error"]
        assert model_problems(result, 1e-3) == []
        made.append(effects.Build.from_probe(corner, values, bases, result))
    return made


@pytest.mark.slow
def test_the_reference_declares_the_space_and_every_hyperparameter_takes_effect(tf):
    declared = tf.probe.declared_space(build_model=tf.ref.build_model, counts=dict(space.MAX_LAYERS))
    assert [build["error"] for build in declared["builds"]] == [None, None]
    by_name = {h["name"]: h for h in declared["hyperparameters"]}
    deepest = declared["builds"][-1]["layers"]
    for family in space.SPACE:
        assert space.family_differences(family, by_name, deepest) == [], family.name
    assert all(space.family_of(name) is not None for name in by_name), "a hyperparameter outside the spec"
    assert effect_failures(probe_builds(tf, tf.ref.build_model)) == {}


@pytest.mark.slow
def test_any_optimizer_at_the_tuned_rate_is_right_and_a_fixed_one_is_named(tf):
    keras = tf.keras

    def with_optimizer(make):
        def build_model(hp):
            model = tf.ref.build_model(hp)
            model.compile(optimizer=make(hp.values["learning_rate"]), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            return model
        return build_model

    for make in (lambda rate: keras.optimizers.RMSprop(rate), lambda rate: keras.optimizers.SGD(rate, momentum=0.9),
                 lambda rate: keras.optimizers.Nadam(learning_rate=rate)):
        assert effect_failures(probe_builds(tf, with_optimizer(make))) == {}
    failures = effect_failures(probe_builds(tf, with_optimizer(lambda rate: "adam")))
    assert list(failures) == ["learning_rate"]
    schedule = with_optimizer(lambda rate: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(rate, 10, 0.9)))
    made = probe_builds(tf, schedule)
    assert effect_failures(made) == {} and {build.learning_rate_schedule for build in made} == {"ExponentialDecay"}
    cosine = with_optimizer(lambda rate: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, 100)))
    assert "CosineDecay starting at it" in effect_failures(probe_builds(tf, cosine))["learning_rate"]


@pytest.mark.slow
def test_make_tuner_returns_a_hyperband_on_val_accuracy_in_the_given_folder(tf, tmp_path):
    tuner = tf.ref.make_tuner(tf.ref.build_model, str(tmp_path), "q1_test")
    assert isinstance(tuner, tf.kt.Hyperband)
    assert (tuner.oracle.objective.name, tuner.oracle.objective.direction) == ("val_accuracy", "max")
    assert os.path.realpath(tuner.project_dir).startswith(os.path.realpath(tmp_path))


@pytest.mark.slow
def test_one_line_cause_of_a_keras_error_and_where_the_student_raised_it(tf, tmp_path, monkeypatch):
    from graders.inside.probes import keras_facts

    error = ValueError("Exception encountered when calling Conv2D.call().\n\n\x1b[1mNegative dimension size\x1b[0m\n\n"
                       "Arguments received by Conv2D.call():\n  • inputs=tf.Tensor(shape=(None, 1, 1, 32))")
    assert keras_facts.one_line(error) == "ValueError: Negative dimension size"
    trace = "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: Computed output size would be zero"
    assert keras_facts.one_line(trace) == "ValueError: Computed output size would be zero"
    assert keras_facts.student_cause(trace) == keras_facts.one_line(trace), "no frame of the submission's"
    submission = tmp_path / "submission"
    monkeypatch.setattr(keras_facts, "SUBMISSION_DIR", str(submission))
    namespace = {}
    exec(compile("def build_model(hp):\n    x = 1\n    return INPUT_SHAPE\n", str(submission / "hw3_ipynb.py"),
                 "exec"), namespace)
    try:
        namespace["build_model"](None)
    except NameError as exc:
        raised = exc
    assert keras_facts.student_cause(raised) == "NameError: name 'INPUT_SHAPE' is not defined (in hw3_ipynb.py, line 3)"
    message = f'Traceback (most recent call last):\n  File "{submission}/hw3_ipynb.py", line 7, in build\nValueError: x'
    assert keras_facts.student_cause(message) == "ValueError: x (in hw3_ipynb.py, line 7)"


@pytest.mark.slow
def test_a_search_whose_every_trial_fails_is_reported_as_such(tf, tmp_path, monkeypatch):
    """Compiled without metrics=["accuracy"], no trial reports val_accuracy: every trial fails."""
    keras = tf.keras

    def build_without_metrics(hp):
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                      loss="sparse_categorical_crossentropy")
        return model

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    rng = np.random.default_rng(0)
    x, y = rng.random((128, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 128)
    fixed = points.expand({"conv_layers": 2, "filters": 32, "dense_layers": 2, "units": 32})
    result = tf.probe.capped_search(build_model=build_without_metrics, make_tuner=tf.ref.make_tuner, fixed=fixed,
                                    x_train=x[:64], y_train=y[:64], x_val=x[64:], y_val=y[64:], max_trials=2,
                                    max_epochs=1, batch_size=64)
    assert result["search"]["best_score"] is None
    assert [trial["status"] for trial in result["search"]["trials"]] == ["FAILED", "FAILED"]
    assert list(tmp_path.iterdir()) == [], "the trial folders are removed"
    assert result["tuner"]["hypermodel_calls"] >= 3 and result["tuner"]["built_model"]["accuracy_metrics"] == []
    check = CheckContext("q1.tuner.search", 2.0, False)
    grader.test_capped_search_completes(result, check)
    verdict = judge(JUDGES, normalise(check.observations), SETTINGS)
    assert verdict.status == "failed"
    assert re.search(r"every trial failed \(2 of 2: FAILED\).*'val_accuracy'.*metrics=\['accuracy'\]", verdict.message)


@pytest.mark.slow
@pytest.mark.parametrize("sample, status", [("reference", "passed"), ("q1_breaks_at_5_conv_5x5", "failed")])
def test_hidden_retrain_of_the_reported_point(sample, status, tmp_path):
    result, process = run_grader(sample_path(sample), tmp_path, questions=["q1"], args=["--hidden", "-k", "retrain"],
                                 seed=1234)
    assert result is not None, process.output[-6000:]
    checks = {check["id"]: check for q in result["questions"] for check in q["checks"]}
    assert checks["q1.reported.retrain"]["status"] == status, checks["q1.reported.retrain"]["message"]
    if status == "failed":
        assert "retraining BEST_HYPERPARAMETERS" in checks["q1.reported.retrain"]["message"]
        assert "Computed output size would be zero or negative" in checks["q1.reported.retrain"]["message"]
