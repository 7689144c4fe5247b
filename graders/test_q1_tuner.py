"""q1: a KerasTuner-tuned CNN on MNIST: the search space, corner builds, budgeted training, the tuner.

The student's `build_model(hp)` and `make_tuner(...)` run only inside the worker, through the
probes in graders/inside/probes/q1.py; what comes back is plain data, checked here against the
space of DESIGN.md (graders/questions/q1_space.py). Budgets and thresholds are in rubric.toml [q1].
"""

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pytest

from graders.harness.compare import as_number
from graders.harness.errors import CheckFailed, MissingName, StudentException, WrongType, require
from graders.questions import q1_space as space


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
    retrain_margin: float
    retrain_timeout_s: float


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section("q1", Settings)

CORNERS = {
    "min": space.point(conv_layers=2, filters=32, kernel=3, dense_layers=2, units=32, dropout=0.0,
                       learning_rate=1e-4),
    "max": space.point(conv_layers=5, filters=256, kernel=5, dense_layers=5, units=256, dropout=0.5,
                       learning_rate=1e-3),
    # deep and narrow convolutions with small kernels, a shallow and wide head, the middle rate
    "mix": space.point(conv_layers=5, filters=32, kernel=3, dense_layers=2, units=256, dropout=0.5,
                       learning_rate=5e-4),
}


def _probe(student, name, *, needs=("build_model",), **kwargs) -> dict:
    """Run a q1 probe with the student's `needs`; a result that is no dict is a WrongType."""
    result = student.probe("q1", name, needs=needs, **kwargs)
    if not isinstance(result, dict):
        raise WrongType(f"the grader's {name} check returned {type(result).__name__}, not a dict")
    return result


def _images(x) -> np.ndarray:
    return (np.asarray(x, dtype=np.float32) / 255.0)[..., np.newaxis]


def _subset(rng, x, y, n):
    chosen = rng.choice(len(y), size=min(int(n), len(y)), replace=False)
    return _images(x[chosen]), np.asarray(y[chosen], dtype=np.int64)


def _spec_point(by_family: dict) -> dict:
    """A point given in the rubric as one value per family, e.g. budget_point."""
    return space.expand(dict(by_family))


# -- 1. the search space ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def declared(student):
    """{"hyperparameters": {name: description}, "builds": [...]} of the student's build_model."""
    result = _probe(student, "declared_space", counts=dict(space.MAX_LAYERS))
    hyperparameters, builds = result.get("hyperparameters"), result.get("builds")
    if not isinstance(hyperparameters, list) or not isinstance(builds, list):
        raise WrongType("the grader's declared_space check returned a malformed result")
    by_name = {str(h["name"]): h for h in hyperparameters if isinstance(h, dict) and "name" in h}
    return {"hyperparameters": by_name, "builds": [b for b in builds if isinstance(b, dict)]}


@pytest.mark.check("q1.space.{family}")
@pytest.mark.parametrize("family", list(space.FAMILIES))
def test_search_space_family(declared, family, check):
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


# -- 2. corner builds ---------------------------------------------------------------------------

@pytest.mark.check("q1.corner.{corner}")
@pytest.mark.parametrize("corner", list(CORNERS))
def test_corner_build(student, mnist, settings, corner, check):
    values = CORNERS[corner]
    where = f"at the {corner} corner ({space.point_text(values)})"
    result = _probe(student, "corner_build", values=values, images=_images(mnist.x_test[:4]))
    check.details.update({key: result.get(key) for key in (
        "output_shape", "final_activation", "loss", "optimizer", "learning_rate", "params")})
    check.details.update(point=space.point_text(values), **_not_declared(result))
    require(not result.get("error"), lambda: f"{where}: build_model failed: {result['error']}")
    problems = _model_problems(result, values["learning_rate"], settings)
    require(not problems, lambda: f"{where}: " + "; ".join(problems))


def _not_declared(result: dict) -> dict:
    """{"not_declared": [...]} for the single hyperparameters the point set but build_model never read."""
    names = [name for name in result.get("undeclared") or [] if name in space.FAMILIES]
    return {"not_declared": names} if names else {}


def _model_problems(result: dict, learning_rate: float, settings: Settings) -> list[str]:
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
    if result.get("optimizer") != "Adam":
        problems.append(f"the optimizer is {result.get('optimizer')}; expected Adam")
    else:
        rate = result.get("learning_rate")
        if not isinstance(rate, (int, float)) or not math.isclose(
                rate, learning_rate, rel_tol=settings.learning_rate_rtol):
            problems.append(f"Adam's learning rate is {rate}; expected the hp's learning_rate {learning_rate:g}")
    return problems


def _probabilities(result: dict, atol: float) -> bool:
    sums, low = result.get("row_sums"), result.get("min_output")
    if not isinstance(sums, list) or not isinstance(low, (int, float)):
        return False
    return low >= -atol and all(isinstance(s, (int, float)) and abs(s - 1.0) <= atol for s in sums)


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")" if isinstance(shape, list) else repr(shape)


# -- 3. budgeted training -----------------------------------------------------------------------

def _budget_data(rng, mnist, settings: Settings) -> dict:
    """The grader's training budget: seeded subsets of the run's MNIST split."""
    x_train, y_train = _subset(rng, mnist.x_train, mnist.y_train, settings.budget_train)
    x_val, y_val = _subset(rng, mnist.x_test, mnist.y_test, settings.budget_val)
    return {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val,
            "epochs": settings.budget_epochs, "batch_size": settings.fit_batch_size}


def _train(student, data, values, *, timeout, check):
    """Train the student's model at `values` on `data`.

    Returns:
        (validation accuracy after the last epoch, the per-epoch history, the budget as text).
    """
    result = _probe(student, "budgeted_training", values=values, timeout=timeout, **data)
    budget = f"{data['epochs']} epochs on {len(data['y_train']):,} digits"
    check.details.update(_not_declared(result))
    require(not result.get("error"), lambda: f"{budget}: {result['error']}")
    history = result.get("history")
    accuracy = history.get("val_accuracy") if isinstance(history, dict) else None
    if not isinstance(accuracy, list) or not accuracy:
        raise WrongType(f"{budget}: the training returned no validation accuracy")
    return as_number(accuracy[-1], what="validation accuracy"), history, budget


def _curve(history: dict, threshold: float) -> dict:
    keys = ("epoch", "loss", "accuracy", "val_accuracy")
    return {**{key: history[key] for key in keys if isinstance(history.get(key), list)}, "threshold": threshold}


@pytest.mark.check("q1.train.budget")
def test_budgeted_training(student, mnist, settings, rng, check):
    values = _spec_point(settings.budget_point)
    threshold = settings.budget_threshold
    check.details["point"] = space.point_text(values)
    accuracy, history, budget = _train(student, _budget_data(rng, mnist, settings), values,
                                       timeout=settings.budget_timeout_s, check=check)
    check.details.update(val_accuracy=accuracy, curve=_curve(history, threshold))
    require(accuracy >= threshold, lambda: (
        f"after {budget} at {space.point_text(values)}, the validation accuracy is {accuracy:.3f}, below the "
        f"threshold {threshold:.3f}{_diagnosis(history)}"))


def _diagnosis(history: dict) -> str:
    accuracy = history.get("val_accuracy") or []
    if accuracy and max(accuracy) <= 0.2:
        return " (it stays near chance, 0.1: check the output activation, the loss and the learning rate)"
    return ""


# -- 4. the tuner ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tuner_run(student, mnist, settings, seed):
    """The student's tuner, described, and the result of a capped search with it."""
    rng = np.random.default_rng([seed, zlib.crc32(b"q1.tuner")])
    x_train, y_train = _subset(rng, mnist.x_train, mnist.y_train, settings.search_train)
    x_val, y_val = _subset(rng, mnist.x_test, mnist.y_test, settings.search_val)
    fixed = _spec_point(settings.search_fixed)  # the expensive dimensions, held small
    result = _probe(student, "capped_search", needs=("make_tuner", "build_model"), fixed=fixed, x_train=x_train,
                    y_train=y_train, x_val=x_val, y_val=y_val, max_trials=settings.search_trials,
                    max_epochs=settings.search_epochs, batch_size=settings.fit_batch_size,
                    timeout=settings.search_timeout_s)
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


# -- 5. reported results ------------------------------------------------------------------------

def _reported(student, name):
    try:
        return student.get(name)
    except MissingName as exc:
        pytest.skip(f"{name} is optional and not given: {exc}")


@pytest.mark.check("q1.reported.hyperparameters")
def test_reported_hyperparameters_inside_space(student, check):
    best = _reported(student, "BEST_HYPERPARAMETERS")
    if not isinstance(best, dict):
        raise WrongType(f"BEST_HYPERPARAMETERS should be a dict of hyperparameter values, got {type(best).__name__}")
    differences = space.reported_differences(best)
    check.details["differences"] = differences
    require(not differences, lambda: "BEST_HYPERPARAMETERS lies outside the search space: " + "; ".join(differences))


@pytest.mark.check("q1.reported.val_accuracy")
def test_reported_val_accuracy_plausible(student, settings):
    value = as_number(_reported(student, "BEST_VAL_ACCURACY"), what="BEST_VAL_ACCURACY")
    chance = settings.chance_accuracy
    require(not 1.0 < value <= 100.0,
            lambda: f"BEST_VAL_ACCURACY is {value:g}: it looks like a percentage; give a fraction in [0, 1]")
    require(chance < value <= 1.0, lambda: f"BEST_VAL_ACCURACY is {value:g}; expected a fraction in [0, 1] above "
                                           f"chance ({chance:g}) for a tuned model")


@pytest.mark.check("q1.reported.retrain")
def test_reported_point_retrains(student, mnist, settings, rng, seed, check):
    """The reported best point, trained on the grader's budget, does about as well as the reference
    model at the same point on the same data (a point's accuracy on this budget ranges from chance
    to ~0.86 across the space, so no fixed threshold fits every point)."""
    best = _reported(student, "BEST_HYPERPARAMETERS")
    if not isinstance(best, dict):
        raise WrongType(f"BEST_HYPERPARAMETERS should be a dict of hyperparameter values, got {type(best).__name__}")
    values = {str(k): v for k, v in best.items() if not str(k).startswith("tuner/")}
    data = _budget_data(rng, mnist, settings)
    check.details["point"] = values
    try:
        accuracy, history, budget = _train(student, data, values, check=check, timeout=settings.retrain_timeout_s)
    except CheckFailed as exc:
        raise CheckFailed(f"retraining BEST_HYPERPARAMETERS: {exc}") from None
    reference = _reference_accuracy(space.zero_based(values), data, seed)
    threshold = reference - settings.retrain_margin
    check.details.update(val_accuracy=accuracy, reference_val_accuracy=reference, curve=_curve(history, threshold))
    require(accuracy >= threshold, lambda: (
        f"retrained at BEST_HYPERPARAMETERS for {budget}, the validation accuracy is {accuracy:.3f}; the reference "
        f"model reaches {reference:.3f} at the same point, and the least accepted is {threshold:.3f}"
        f"{_diagnosis(history)}"))


def _reference_accuracy(values: dict, data: dict, seed: int) -> float:
    """The reference model's validation accuracy at `values` on `data`, trained here (trusted code)."""
    import keras

    from graders.inside.probes import q1 as procedure  # the same training the worker runs
    from reference import q1_tuner

    keras.utils.set_random_seed(seed)
    result = procedure.budgeted_training(build_model=q1_tuner.build_model, values=values, **data)
    if result.get("error"):
        raise RuntimeError(f"the reference failed at BEST_HYPERPARAMETERS: {result['error']}")
    return float(result["history"]["val_accuracy"][-1])
