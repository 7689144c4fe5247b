"""q1: a KerasTuner-tuned CNN on MNIST: the search space, corner builds, budgeted training, the tuner.

The student's `build_model(hp)` and `make_tuner(...)` run only inside the worker, through the
probes in graders/inside/probes/q1.py; what comes back is plain data. Each check observes (the
declared space and the built models, accuracies computed here from the model's outputs, the tuner's
description, the reported values, the reference's accuracy from the trusted side) and its judge
decides (graders/questions/q1/judges.py: the space of DESIGN.md in q1/space.py, each hyperparameter's
effect in q1/effects.py, the messages in q1/diagnosis.py). Training probes get no validation labels
(graders/questions/q1/training.py). Budgets and thresholds are in rubric.toml [q1], with the spreads
they were calibrated on.
"""

import math
import zlib
from dataclasses import replace

import pytest

from graders.core.compare import as_number
from graders.core.errors import NotAttempted, StudentException, SubmissionError, WrongType
from graders.questions.q1 import points, space, training
from graders.questions.q1.judges import Settings

Q = "q1"


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section(Q, Settings)


MIN = points.point(conv_layers=2, filters=32, kernel=3, dense_layers=2, units=32, dropout=0.0, learning_rate=1e-4)
MAX = points.point(conv_layers=5, filters=256, kernel=5, dense_layers=5, units=256, dropout=0.5, learning_rate=1e-3)
# Every layer differs from the next, so that a per-layer hyperparameter read for the wrong layer
# (or once for all) shows; three conv layers with both kernel sizes still fit 'valid' convolutions.
MIX_LAYERS = {"filters": [64, 128, 32], "kernel": [5, 3, 5], "units": [128, 64, 256, 32],
              "dropout": [0.2, 0.0, 0.4, 0.1]}
CORNERS = ("min", "max", "mix")
MAX_REPORTED = 200  # entries of BEST_HYPERPARAMETERS kept in the observations (a real one has ~25)


def corner_point(corner: str, bases: dict) -> dict:
    if corner == "mix":
        return points.layered_point(MIX_LAYERS, {"learning_rate": 5e-4}, bases)
    return MIN if corner == "min" else MAX


def _probe(student, name, *, needs=("build_model",), **kwargs) -> dict:
    """Run a q1 probe with the student's `needs`; a result that is no dict is a WrongType, and an error
    that is the starter's stub (NotImplementedError) is NotAttempted, as a direct call's would be."""
    result = student.probe(Q, name, needs=needs, **kwargs)
    if not isinstance(result, dict):
        raise WrongType(f"the grader's {name} check returned {type(result).__name__}, not a dict")
    builds = result.get("builds") if isinstance(result.get("builds"), list) else []
    errors = [result.get("error")] if result.get("error") else [b.get("error") for b in builds if isinstance(b, dict)]
    stubbed = [_stubbed_function(error, needs) for error in errors]
    if stubbed and all(stubbed):
        raise NotAttempted(f"`{stubbed[0]}(...)` raises NotImplementedError")
    return result


def _stubbed_function(error, needs: tuple) -> str:
    """The student function whose NotImplementedError `error` (a probe's one-line cause) reports, or ""."""
    text = str(error or "")
    for function in needs:
        if text.startswith(f"{function}(...) raised NotImplementedError"):
            return function
    return needs[-1] if text.startswith("NotImplementedError") else ""


# -- 1. the search space, and whether each hyperparameter takes effect --------------------------

@pytest.fixture(scope="module")
def declared(student):
    """{"hyperparameters": {name: description}, "builds": [...], "bases": {family: 0 or 1}}."""
    result = _probe(student, "declared_space", counts=dict(space.MAX_LAYERS))
    hyperparameters, builds = result.get("hyperparameters"), result.get("builds")
    if not isinstance(hyperparameters, list) or not isinstance(builds, list):
        raise WrongType("the grader's declared_space check returned a malformed result")
    by_name = {str(h["name"]): h for h in hyperparameters if isinstance(h, dict) and "name" in h}
    bases = {family.name: space.index_base(family.name, by_name) for family in space.SPACE if family.per}
    return {"hyperparameters": by_name, "builds": [b for b in builds if isinstance(b, dict)], "bases": bases}


@pytest.fixture(scope="module")
def corner_builds(student, mnist, declared) -> dict:
    """{corner: (values, probe result or the SubmissionError it raised)} of the min, max and mix builds."""
    builds = {}
    for corner in CORNERS:
        values = corner_point(corner, declared["bases"])
        try:
            builds[corner] = values, _probe(student, "corner_build", values=values,
                                            images=training.images(mnist.x_test[:4]))
        except SubmissionError as exc:
            builds[corner] = values, exc
    return builds


@pytest.mark.check("q1.space.{family}")
@pytest.mark.parametrize("family", list(space.FAMILIES))
def test_search_space_family(declared, corner_builds, family, check):
    deepest = declared["builds"][-1] if declared["builds"] else {}
    check.observe("space_family", family=family, declared=declared["hyperparameters"], bases=declared["bases"],
                  deepest_layers=[str(layer) for layer in deepest.get("layers") or []],
                  failed_builds=[{"label": b.get("label"), "error": b.get("error")}
                                 for b in declared["builds"] if b.get("error")],
                  builds=[{"corner": corner, "values": values, "result": result}
                          for corner, (values, result) in corner_builds.items() if isinstance(result, dict)])


# -- 2. corner builds ---------------------------------------------------------------------------

@pytest.mark.check("q1.corner.{corner}")
@pytest.mark.parametrize("corner", CORNERS)
def test_corner_build(corner_builds, declared, corner, check):
    values, result = corner_builds[corner]
    if isinstance(result, SubmissionError):
        raise result
    check.observe("corner_build", corner=corner, point=points.point_text(values, declared["bases"]),
                  result=result, not_declared=_not_declared(result))


def _not_declared(result: dict) -> list[str]:
    """The single hyperparameters the point set but build_model never read."""
    return [name for name in result.get("undeclared") or [] if name in space.FAMILIES]


# -- 3. budgeted training -----------------------------------------------------------------------

def budget_data(mnist, seed: int, settings: Settings, *, retrain: bool = False) -> training.Budget:
    """The grader's training budget, drawn from the grading's seed (the retrain's: the first of its digits)."""
    if retrain:
        return training.budget(mnist, seed, key="q1.budget", n_train=settings.retrain_train,
                               n_val=settings.retrain_val, epochs=settings.retrain_epochs,
                               batch_size=settings.retrain_batch_size, each_epoch=False)
    return training.budget(mnist, seed, key="q1.budget", n_train=settings.budget_train, n_val=settings.budget_val,
                           epochs=settings.budget_epochs, batch_size=settings.fit_batch_size)


def reference_data(mnist, settings: Settings) -> training.Budget:
    """The reference's retrain digits: the same in every grading of this data set (the rubric's retrain_seed)."""
    return training.canonical_budget(mnist, seed=settings.retrain_seed, key="q1.retrain",
                                     n_train=settings.retrain_train, n_val=settings.retrain_val,
                                     epochs=settings.retrain_epochs, batch_size=settings.retrain_batch_size)


def observe_training(student, data: training.Budget, values: dict, *, timeout: float, **options) -> dict:
    """Train the student's model at `values` on `data`, without its validation labels.

    Returns:
        The observations of a training: the probe's description of the model, its error (a Keras
        error while training is the student's; judged with the model's description) or the
        validation accuracy after the last epoch and the curve for the report.
    """
    result = _probe(student, "budgeted_training", values=values, timeout=timeout, **data.sent(), **options)
    model = result.get("model") if isinstance(result.get("model"), dict) else {}
    observed = {"budget": data.text(), "short": data.short, "model": model, "training_error": result.get("error"),
                "not_declared": _not_declared(result), "one_hot": bool(result.get("one_hot")),
                "tuned_rate": values.get("learning_rate"), "curve": {}, "val_accuracy": None}
    if observed["training_error"]:
        return observed
    accuracy = training.accuracies(result.get("predictions"), data.y_val, epochs=data.predicted_epochs)
    history = result.get("history") if isinstance(result.get("history"), dict) else {}
    observed["curve"] = {"epoch": list(range(data.epochs - len(accuracy) + 1, data.epochs + 1)),
                         "val_accuracy": accuracy,
                         **{key: history[key] for key in ("loss", "accuracy") if isinstance(history.get(key), list)}}
    observed["val_accuracy"] = accuracy[-1]
    return observed


@pytest.mark.check("q1.train.budget")
def test_budgeted_training(student, mnist, settings, seed, check):
    values = points.expand(dict(settings.budget_point))
    observed = observe_training(student, budget_data(mnist, seed, settings), values, timeout=settings.budget_timeout_s)
    check.observe("budget_training", point=points.point_text(values), **observed)


# -- 4. the tuner ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tuner_run(student, mnist, settings, seed):
    """The student's tuner, described, and the result of a capped search with it on the training split."""
    data = training.search_split(mnist, seed, n_train=settings.search_train, n_val=settings.search_val)
    fixed = points.expand(dict(settings.search_fixed))  # the expensive dimensions, held small
    # A project name of the seed's: a make_tuner that writes its own constant never matches it.
    project = f"q1_capped_{zlib.crc32(f'{seed}'.encode()):08x}"
    result = _probe(student, "capped_search", needs=("make_tuner", "build_model"), fixed=fixed, **data,
                    max_trials=settings.search_trials, max_epochs=settings.search_epochs,
                    batch_size=settings.fit_batch_size, timeout=settings.search_timeout_s, project_name=project)
    if result.get("error"):
        raise StudentException(str(result["error"]))
    if not isinstance(result.get("tuner"), dict) or not isinstance(result.get("search"), dict):
        raise WrongType("the grader's capped_search check returned a malformed result")
    return result


@pytest.mark.check("q1.tuner.hyperband")
def test_make_tuner_returns_hyperband_on_val_accuracy(tuner_run, check):
    check.observe("tuner_hyperband", tuner=tuner_run["tuner"])


@pytest.mark.check("q1.tuner.search")
def test_capped_search_completes(tuner_run, check):
    check.details["seconds"] = tuner_run["search"].get("seconds")  # the run's, not the verdict's
    check.observe("capped_search", search=tuner_run["search"], tuner=tuner_run["tuner"])


# -- 5. reported results (a missing name scores 0, like any missing answer) --------------------

def _best_hyperparameters(student) -> dict:
    """BEST_HYPERPARAMETERS as plain, bounded data: tuner/* keys left out, a number too large for a float
    kept as text (it lies outside the space either way)."""
    best = student.get("BEST_HYPERPARAMETERS")
    if not isinstance(best, dict):
        raise WrongType(f"BEST_HYPERPARAMETERS should be a dict of hyperparameter values, got {type(best).__name__}")
    return {str(name)[:100]: _bounded(value) for name, value in list(best.items())[:MAX_REPORTED]
            if not str(name).startswith("tuner/")}


def _bounded(value):
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else f"{str(value)[:7]}... ({len(str(abs(value)))} digits)"
    return str(value)[:100] if isinstance(value, str) else f"a {type(value).__name__}"


@pytest.mark.check("q1.reported.hyperparameters")
def test_reported_hyperparameters_inside_space(student, check):
    check.observe("reported_hyperparameters", reported=_best_hyperparameters(student))


@pytest.mark.check("q1.reported.val_accuracy")
def test_reported_val_accuracy_plausible(student, check):
    raw = student.get("BEST_VAL_ACCURACY")
    value = as_number(raw, what="BEST_VAL_ACCURACY")  # an int beyond a float's range (10**400) is +-inf
    text = f"{value:g}"
    if isinstance(raw, int) and math.isinf(value):  # a wrong answer like any other: say what it was
        digits = str(raw)
        text = f"a number too large for a float ({digits[:12]}..., {len(digits.lstrip('-'))} digits)"
    check.observe("reported_val_accuracy", value=value, text=text)


@pytest.mark.check("q1.reported.retrain")
def test_reported_point_retrains(student, trusted, mnist, settings, seed, check):
    """The reported best point, trained on the grader's (small) retrain budget, does about as well as
    the reference model at the same point from the same initial weights (a point's accuracy on this
    budget ranges from chance to ~0.9 across the space, so no fixed threshold fits every point). The
    student's digits are the grading's; the reference's do not depend on the seed, so its accuracy is
    trained once per point and grader version. At a point that learns slowly, both get the epochs the
    reference needs to reach retrain_target (at most retrain_max_epochs); the student's model gets
    retrain_extra_epochs more, and its best epoch counts. A point outside the space fails before
    anything trains."""
    reported = _best_hyperparameters(student)
    outside = space.reported_differences(reported)
    if outside:
        check.observe("reported_retrain", reported=reported, outside=outside)
        return
    data = reference_data(mnist, settings)
    reference = trusted.value(Q, "retrain_reference", values=reported, x_train=data.x_train, y_train=data.y_train,
                              x_val=data.x_val, y_val=data.y_val, epochs=settings.retrain_epochs,
                              max_epochs=settings.retrain_max_epochs, target=settings.retrain_target,
                              batch_size=data.batch_size, seed=settings.retrain_seed,
                              timeout_s=settings.retrain_reference_timeout_s,
                              memory_gib=settings.retrain_reference_memory_gib)
    # The epochs the reference needed at this point, and more: early epochs vary most with the digits.
    epochs = int(reference["epochs"]) + settings.retrain_extra_epochs
    data = replace(budget_data(mnist, seed, settings, retrain=True), epochs=epochs, each_epoch=True)
    observed = observe_training(student, data, reported, timeout=settings.retrain_timeout_s * epochs,
                                seed=settings.retrain_seed, adapt_labels=True)
    check.observe("reported_retrain", reported=reported, outside=[], reference_val_accuracy=reference["val_accuracy"],
                  reference_by_epoch=reference["by_epoch"], **observed)
