"""q1: a KerasTuner-tuned CNN on MNIST: the search space, corner builds, budgeted training, the tuner.

The student's `build_model(hp)` and `make_tuner(...)` run only inside the worker, through the
probes in graders/inside/probes/q1.py; what comes back is plain data, checked here against the
space of DESIGN.md (graders/questions/q1/space.py: the values each hyperparameter can take;
q1/effects.py: whether each takes effect in the built model). Training probes get no validation
labels: accuracies are computed here (graders/questions/q1/training.py). Budgets and thresholds
are in rubric.toml [q1], with the spreads they were calibrated on.
"""

import math
from dataclasses import dataclass

import pytest

from graders.core.compare import as_number
from graders.core.errors import CheckFailed, NotAttempted, StudentException, SubmissionError, WrongType, require
from graders.questions.q1 import effects, points, space, training


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q1] (the calibration of each budget and threshold is recorded there)."""

    probability_atol: float
    learning_rate_rtol: float
    fit_batch_size: int
    chance_accuracy: float
    budget_point: dict
    budget_train: int
    budget_val: int
    budget_epochs: int
    budget_threshold: float
    budget_timeout_s: float
    search_fixed: dict
    search_train: int
    search_val: int
    search_trials: int
    search_epochs: int
    search_timeout_s: float
    retrain_train: int
    retrain_val: int
    retrain_epochs: int
    retrain_batch_size: int
    retrain_margin: float
    retrain_timeout_s: float


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section("q1", Settings)


MIN = points.point(conv_layers=2, filters=32, kernel=3, dense_layers=2, units=32, dropout=0.0, learning_rate=1e-4)
MAX = points.point(conv_layers=5, filters=256, kernel=5, dense_layers=5, units=256, dropout=0.5, learning_rate=1e-3)
# Every layer differs from the next, so that a per-layer hyperparameter read for the wrong layer
# (or once for all) shows; three conv layers with both kernel sizes still fit 'valid' convolutions.
MIX_LAYERS = {"filters": [64, 128, 32], "kernel": [5, 3, 5], "units": [128, 64, 256, 32],
              "dropout": [0.2, 0.0, 0.4, 0.1]}
CORNERS = ("min", "max", "mix")


def corner_point(corner: str, bases: dict) -> dict:
    if corner == "mix":
        return points.layered_point(MIX_LAYERS, {"learning_rate": 5e-4}, bases)
    return MIN if corner == "min" else MAX


def _probe(student, name, *, needs=("build_model",), **kwargs) -> dict:
    """Run a q1 probe with the student's `needs`; a result that is no dict is a WrongType, and an error
    that is the starter's stub (NotImplementedError) is NotAttempted, as a direct call's would be."""
    result = student.probe("q1", name, needs=needs, **kwargs)
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
def test_search_space_family(declared, corner_builds, settings, family, check):
    spec = space.FAMILIES[family]
    deepest = declared["builds"][-1] if declared["builds"] else {}
    layers = [str(layer) for layer in deepest.get("layers") or []]
    differences = space.family_differences(spec, declared["hyperparameters"], layers)
    check.details.update(spec=f"{spec.label}: {spec.text()}", differences=differences,
                         declared=[f"{name}: {space.describe(h)}" for name, h in declared["hyperparameters"].items()
                                   if space.family_of(name) is spec or name == spec.name])
    failed_builds = [f"build_model failed with {b.get('label')}: {b.get('error')}"
                     for b in declared["builds"] if b.get("error")]
    require(not differences, lambda: "; ".join(differences) + "".join(f" ({note})" for note in failed_builds))
    builds = [build for corner, (values, result) in corner_builds.items()
              if (build := effects.Build.from_probe(corner, values, declared["bases"], result)) is not None]
    check.details["effect_builds"] = [build.label for build in builds]
    problem = effects.family_effect(family, builds, learning_rate_rtol=settings.learning_rate_rtol)
    require(not problem, problem)


# -- 2. corner builds ---------------------------------------------------------------------------

@pytest.mark.check("q1.corner.{corner}")
@pytest.mark.parametrize("corner", CORNERS)
def test_corner_build(corner_builds, declared, settings, corner, check):
    values, result = corner_builds[corner]
    where = f"at the {corner} corner ({points.point_text(values, declared['bases'])})"
    if isinstance(result, SubmissionError):
        raise result
    check.details.update({key: result.get(key) for key in (
        "output_shape", "final_activation", "loss", "optimizer", "learning_rate", "params")})
    check.details.update(point=points.point_text(values, declared["bases"]), **_not_declared(result))
    require(not result.get("error"), lambda: f"{where}: build_model failed: {result['error']}")
    problems = _model_problems(result, settings)
    require(not problems, lambda: f"{where}: " + "; ".join(problems))


def _not_declared(result: dict) -> dict:
    """{"not_declared": [...]} for the single hyperparameters the point set but build_model never read."""
    names = [name for name in result.get("undeclared") or [] if name in space.FAMILIES]
    return {"not_declared": names} if names else {}


def _model_problems(result: dict, settings: Settings) -> list[str]:
    """What keeps the built model from being a compiled 10-class classifier (the learning rate is
    the learning_rate family's check; any optimizer is right)."""
    problems = []
    shape = result.get("output_shape")
    if shape != [None, 10]:
        problems.append(f"the output shape is {_shape_text(shape)}; expected (None, 10), one probability per digit")
    elif not _probabilities(result, settings.probability_atol):
        problems.append(f"the outputs are not probabilities (final activation {result.get('final_activation')!r}; "
                        "rows should be >= 0 and sum to 1): end with Dense(10, activation='softmax')")
    if not result.get("compiled"):
        return problems + ["the model is not compiled: call model.compile(...) inside build_model"]
    loss = str(result.get("loss")).lower().replace("_", "")
    if "sparsecategoricalcrossentropy" not in loss:
        problems.append(f"the loss is {result.get('loss')!r}; expected sparse categorical cross-entropy "
                        "(the labels are integers 0..9)")
    elif result.get("from_logits") is True:
        problems.append("the loss has from_logits=True but the model outputs probabilities")
    return problems


def _probabilities(result: dict, atol: float) -> bool:
    sums, low = result.get("row_sums"), result.get("min_output")
    if not isinstance(sums, list) or not isinstance(low, (int, float)):
        return False
    return low >= -atol and all(isinstance(s, (int, float)) and abs(s - 1.0) <= atol for s in sums)


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")" if isinstance(shape, list) else repr(shape)


# -- 3. budgeted training -----------------------------------------------------------------------

def budget_data(mnist, seed: int, settings: Settings, *, retrain: bool = False) -> training.Budget:
    """The grader's training budget (the retrain's is smaller), the same for every check that uses it."""
    if retrain:
        return training.budget(mnist, seed, key="q1.budget", n_train=settings.retrain_train,
                               n_val=settings.retrain_val, epochs=settings.retrain_epochs,
                               batch_size=settings.retrain_batch_size, each_epoch=False)
    return training.budget(mnist, seed, key="q1.budget", n_train=settings.budget_train, n_val=settings.budget_val,
                           epochs=settings.budget_epochs, batch_size=settings.fit_batch_size)


def _train(student, data: training.Budget, values: dict, *, timeout: float, check) -> tuple[float, dict, dict]:
    """Train the student's model at `values` on `data`, without its validation labels.

    Returns:
        (validation accuracy after the last epoch, the training curve for the report, the probe's
        description of the trained model).
    """
    result = _probe(student, "budgeted_training", values=values, timeout=timeout, **data.sent())
    check.details.update(_not_declared(result))
    require(not result.get("error"), lambda: f"{data.text()}: {result['error']}")
    accuracy = training.accuracies(result.get("predictions"), data.y_val, epochs=data.predicted_epochs)
    history = result.get("history") if isinstance(result.get("history"), dict) else {}
    curve = {"epoch": list(range(data.epochs - len(accuracy) + 1, data.epochs + 1)), "val_accuracy": accuracy,
             **{key: history[key] for key in ("loss", "accuracy") if isinstance(history.get(key), list)}}
    model = result.get("model") if isinstance(result.get("model"), dict) else {}
    return accuracy[-1], curve, model


@pytest.mark.check("q1.train.budget")
def test_budgeted_training(student, mnist, settings, seed, check):
    values = points.expand(dict(settings.budget_point))
    threshold, data = settings.budget_threshold, budget_data(mnist, seed, settings)
    check.details["point"] = points.point_text(values)
    accuracy, curve, model = _train(student, data, values, timeout=settings.budget_timeout_s, check=check)
    check.details.update(val_accuracy=accuracy, curve={**curve, "threshold": threshold})
    require(accuracy >= threshold, lambda: (
        f"after {data.text()} at {points.point_text(values)}, the validation accuracy is {accuracy:.3f}, below the "
        f"threshold {threshold:.3f}{_likely_causes(curve, model)}"))


def _likely_causes(curve: dict, model: dict) -> str:
    """The causes measured for a model that misses the budget (rubric.toml [q1], budget_threshold)."""
    causes = []
    if str(model.get("optimizer")) == "SGD":
        causes.append("SGD at the tuned learning rates (1e-4 to 1e-3) learns far too slowly: Adam, RMSprop "
                      "or Nadam at the same rate reach the threshold")
    layers = model.get("layers") if isinstance(model.get("layers"), list) else []
    hidden = {str(layer.get("activation")) for layer in layers[:-1] if isinstance(layer, dict)
              and layer.get("kind") in ("conv", "dense")}
    if "sigmoid" in hidden:
        causes.append("sigmoid activations in the hidden layers barely learn in this budget: use relu")
    if any(isinstance(layer, dict) and layer.get("class") == "Rescaling" for layer in layers):
        causes.append("the model rescales its inputs (a Rescaling layer), but the digits already come in [0, 1]: "
                      "scaled twice, they are too faint to learn from")
    if model and model.get("final_activation") != "softmax":
        causes.append(f"the output layer's activation is {model.get('final_activation')!r}, not softmax")
    if max(curve.get("val_accuracy") or [0.0]) <= 0.2:
        causes.append("the accuracy stays near chance (0.1): check the output activation, the loss and the "
                      "learning rate")
    return ". Likely causes:" + "".join(f"\n- {cause}" for cause in causes) if causes else ""


# -- 4. the tuner ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tuner_run(student, mnist, settings, seed):
    """The student's tuner, described, and the result of a capped search with it on the training split."""
    data = training.search_split(mnist, seed, n_train=settings.search_train, n_val=settings.search_val)
    fixed = points.expand(dict(settings.search_fixed))  # the expensive dimensions, held small
    result = _probe(student, "capped_search", needs=("make_tuner", "build_model"), fixed=fixed, **data,
                    max_trials=settings.search_trials, max_epochs=settings.search_epochs,
                    batch_size=settings.fit_batch_size, timeout=settings.search_timeout_s)
    if result.get("error"):
        raise StudentException(str(result["error"]))
    if not isinstance(result.get("tuner"), dict) or not isinstance(result.get("search"), dict):
        raise WrongType("the grader's capped_search check returned a malformed result")
    return result


@pytest.mark.check("q1.tuner.hyperband")
def test_make_tuner_returns_hyperband_on_val_accuracy(tuner_run, check):
    tuner = tuner_run["tuner"]
    check.details.update({key: tuner.get(key) for key in ("class", "oracle", "objective", "direction",
                                                          "max_epochs", "factor")})
    problems = []
    if not tuner.get("is_hyperband"):
        problems.append(f"make_tuner returned a {tuner.get('class')}; expected keras_tuner.Hyperband")
    objective = tuner.get("objective")
    if objective != "val_accuracy":
        note = " (the training accuracy: it rewards overfitting)" if objective == "accuracy" else ""
        problems.append(f"the objective is {objective!r}{note}; expected 'val_accuracy'")
    elif tuner.get("direction") != "max":
        problems.append(f"the objective's direction is {tuner.get('direction')!r}; expected 'max'")
    if not tuner.get("uses_directory") or not tuner.get("uses_project_name"):
        problems.append(f"the tuner ignores the directory/project_name arguments (it writes to "
                        f"{tuner.get('directory')!r}): pass directory=directory, project_name=project_name")
    require(not problems, lambda: "; ".join(problems))


@pytest.mark.check("q1.tuner.search")
def test_capped_search_completes(tuner_run, check):
    search = tuner_run["search"]
    trials = [t for t in search.get("trials") or [] if isinstance(t, dict)]
    check.details.update(trials=[{key: t.get(key) for key in ("id", "status", "score", "message")} for t in trials],
                         best_score=search.get("best_score"), seconds=search.get("seconds"))
    best = search.get("best_score")
    if isinstance(best, (int, float)) and math.isfinite(best):
        return
    causes = sorted({str(t.get("message")) for t in trials if t.get("message")})
    cause = f": {causes[0]}" if causes else ""
    objective = str(tuner_run["tuner"].get("objective"))
    if causes and (objective in causes[0] or "Objective value missing" in causes[0]):
        cause += f" (no trial reported {objective!r}: does build_model compile with metrics=['accuracy']?)"
    stopped = f" (the search stopped with {search['error']})" if search.get("error") else ""
    require(trials, f"the capped search ran no trial{stopped}")
    statuses = ", ".join(sorted({str(t.get("status")) for t in trials}))
    raise CheckFailed(f"every trial failed ({len(trials)} of {len(trials)}: {statuses}), so the search has "
                      f"no best score{cause}{stopped}")


# -- 5. reported results (a missing name scores 0, like any missing answer) --------------------

def _best_hyperparameters(student) -> dict:
    best = student.get("BEST_HYPERPARAMETERS")
    if not isinstance(best, dict):
        raise WrongType(f"BEST_HYPERPARAMETERS should be a dict of hyperparameter values, got {type(best).__name__}")
    return best


@pytest.mark.check("q1.reported.hyperparameters")
def test_reported_hyperparameters_inside_space(student, check):
    differences = space.reported_differences(_best_hyperparameters(student))
    check.details["differences"] = differences
    require(not differences, lambda: "BEST_HYPERPARAMETERS lies outside the search space: " + "; ".join(differences))


@pytest.mark.check("q1.reported.val_accuracy")
def test_reported_val_accuracy_plausible(student, settings):
    value = as_number(student.get("BEST_VAL_ACCURACY"), what="BEST_VAL_ACCURACY")
    chance = settings.chance_accuracy
    require(not 1.0 < value <= 100.0,
            lambda: f"BEST_VAL_ACCURACY is {value:g}: it looks like a percentage; give a fraction in [0, 1]")
    require(chance < value <= 1.0, lambda: f"BEST_VAL_ACCURACY is {value:g}; expected a fraction in [0, 1] above "
                                           f"chance ({chance:g}) for a tuned model")


@pytest.mark.check("q1.reported.retrain")
def test_reported_point_retrains(student, mnist, settings, seed, check):
    """The reported best point, trained on the grader's (small) retrain budget, does about as well as
    the reference model at the same point on the same data (a point's accuracy on this budget ranges
    from chance to ~0.9 across the space, so no fixed threshold fits every point)."""
    values = {str(k): v for k, v in _best_hyperparameters(student).items() if not str(k).startswith("tuner/")}
    data = budget_data(mnist, seed, settings, retrain=True)
    check.details["point"] = values
    try:
        accuracy, curve, model = _train(student, data, values, check=check, timeout=settings.retrain_timeout_s)
    except CheckFailed as exc:
        raise CheckFailed(f"retraining BEST_HYPERPARAMETERS: {exc}") from None
    check.details["val_accuracy"] = accuracy
    if accuracy >= 1.0 - settings.retrain_margin:
        return  # no reference can beat it by more than the margin: the reference need not be trained
    reference = training.reference_accuracy(points.zero_based(values), data, seed=seed)
    threshold = reference - settings.retrain_margin
    check.details.update(reference_val_accuracy=reference, curve={**curve, "threshold": threshold})
    require(accuracy >= threshold, lambda: (
        f"retrained at BEST_HYPERPARAMETERS for {data.text()}, the validation accuracy is {accuracy:.3f}; the "
        f"reference model reaches {reference:.3f} at the same point, and the least accepted is {threshold:.3f}"
        f"{_likely_causes(curve, model)}"))
