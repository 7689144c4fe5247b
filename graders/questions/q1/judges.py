"""q1's rubric settings and the judges of its checks (graders/test_q1_tuner.py observes, these decide).

Every decision that reads a threshold or a tolerance is here, so a rescore under a changed one equals
a fresh grading. The settings that change what a check observes (budgets, digits, epochs, batch
sizes, timeouts, the retrain's seed) are declared `observed(...)`; the calibration of each value is
recorded beside it in rubric.toml [q1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from graders.core.errors import CheckFailed, require
from graders.core.judging import Judges
from graders.core.rubric import observed
from graders.questions.q1 import effects, space
from graders.questions.q1.diagnosis import likely_causes, model_problems, one_hot_note

MAX_LISTED = 12  # differences named in one message; the details keep them all


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q1]."""

    probability_atol: float  # corner builds: softmax rows >= -atol, |sum - 1| <= atol
    learning_rate_rtol: float  # space.learning_rate: the optimizer's rate against the tuned one
    chance_accuracy: float  # reported.val_accuracy must lie above it
    budget_threshold: float  # train.budget: the least validation accuracy after the budget
    retrain_margin: float  # reported.retrain: the least accepted is the reference's accuracy minus this ...
    retrain_floor: float  # ... and never below this, whatever the reported point
    fit_batch_size: int = observed("train.budget", "tuner.*")
    budget_point: dict = observed("train.budget")
    budget_train: int = observed("train.budget")
    budget_val: int = observed("train.budget")
    budget_epochs: int = observed("train.budget")
    budget_timeout_s: float = observed("train.budget")
    search_fixed: dict = observed("tuner.*")
    search_train: int = observed("tuner.*")
    search_val: int = observed("tuner.*")
    search_trials: int = observed("tuner.*")
    search_epochs: int = observed("tuner.*")
    search_timeout_s: float = observed("tuner.*")
    retrain_seed: int = observed("reported.retrain")  # the reference's digits and both models' initial weights
    retrain_train: int = observed("reported.retrain")
    retrain_val: int = observed("reported.retrain")
    retrain_epochs: int = observed("reported.retrain")  # at least; more while the reference is below ...
    retrain_target: float = observed("reported.retrain")  # ... this accuracy, up to ...
    retrain_max_epochs: int = observed("reported.retrain")  # ... this many epochs
    retrain_extra_epochs: int = observed("reported.retrain")  # the student's model: this many more, best one counts
    retrain_batch_size: int = observed("reported.retrain")
    retrain_timeout_s: float = observed("reported.retrain")  # per epoch: the student's model, in the worker
    retrain_reference_timeout_s: float = observed("reported.retrain")  # per epoch: the reference, in its process
    retrain_reference_memory_gib: float = observed("reported.retrain")


JUDGES = Judges("q1")


# -- the space, corner builds ------------------------------------------------------------------

@JUDGES("space_family")
def space_family(observations: dict, settings: Settings, details: dict) -> None:
    """One family: declared with the spec's values, and taking effect in every corner build."""
    family = observations["family"]
    spec, declared = space.FAMILIES[family], observations["declared"]
    differences = space.family_differences(spec, declared, observations["deepest_layers"])
    details.update(spec=f"{spec.label}: {spec.text()}", differences=differences,
                   declared=[f"{name}: {space.describe(h)}" for name, h in declared.items()
                             if space.family_of(name) is spec or name == spec.name])
    require(not differences, lambda: "; ".join(differences) + _failed_builds(observations["failed_builds"]))
    builds = [build for entry in observations["builds"] if (build := effects.Build.from_probe(
        entry["corner"], entry["values"], observations["bases"], entry["result"])) is not None]
    details["effect_builds"] = [build.label for build in builds]
    problem = effects.family_effect(family, builds, learning_rate_rtol=settings.learning_rate_rtol)
    require(not problem, problem)
    schedules = sorted({build.learning_rate_schedule for build in builds if build.learning_rate_schedule})
    if family == "learning_rate" and schedules:
        details["remark"] = (f"the optimizer's learning rate is a schedule ({', '.join(schedules)}) that starts at the "
                             "tuned learning_rate at every build: it counts as the tuned rate (no deduction)")


def _failed_builds(failed: list) -> str:
    """" (build_model failed with defaults and with ...: <error>)", one note per distinct error."""
    by_error: dict[str, list[str]] = {}
    for build in failed:
        by_error.setdefault(str(build["error"]), []).append(str(build["label"]))
    return "".join(f" (build_model failed with {' and with '.join(labels)}: {error})"
                   for error, labels in by_error.items())


@JUDGES("corner_build")
def corner_build(observations: dict, settings: Settings, details: dict) -> None:
    """A build at a corner of the space: a compiled classifier of the digits into 10 classes."""
    result, where = observations["result"], f"at the {observations['corner']} corner ({observations['point']})"
    details.update({key: result.get(key) for key in ("output_shape", "final_activation", "loss", "from_logits",
                                                     "optimizer", "learning_rate", "params")})
    details["point"] = observations["point"]
    if observations["not_declared"]:
        details["not_declared"] = observations["not_declared"]
    require(not result.get("error"), lambda: f"{where}: build_model failed: {result['error']}")
    problems = model_problems(result, settings.probability_atol)
    require(not problems, lambda: f"{where}: " + "; ".join(problems))


# -- trainings ---------------------------------------------------------------------------------

@JUDGES("budget_training")
def budget_training(observations: dict, settings: Settings, details: dict) -> None:
    """The model at the budget point, trained on the grader's budget, reaches the threshold."""
    threshold, model, curve = settings.budget_threshold, observations["model"], observations["curve"]
    where = f"{observations['budget']} at {observations['point']}"
    details["point"] = observations["point"]
    _training_details(observations, details)
    failure = observations["training_error"]
    require(not failure, lambda: f"{observations['budget']}: {failure}" + _one_hot(model))
    accuracy = observations["val_accuracy"]
    details.update(val_accuracy=accuracy, curve={**curve, "threshold": threshold})
    require(accuracy >= threshold, lambda: (
        f"after {where}, the validation accuracy is {accuracy:.3f}, below the threshold {threshold:.3f}"
        + likely_causes(curve, model, tuned_rate=observations["tuned_rate"], rtol=settings.learning_rate_rtol)))


@JUDGES("reported_retrain")
def reported_retrain(observations: dict, settings: Settings, details: dict) -> None:
    """The reported point, retrained on the grader's budget, does about as well as the reference
    model there (its accuracy minus retrain_margin), and never less than retrain_floor: the student's
    best accuracy after any of its epochs counts."""
    details["point"] = observations["reported"]
    outside = observations["outside"]
    if outside:
        details["differences"] = outside
        raise CheckFailed("BEST_HYPERPARAMETERS lies outside the search space (" + _listed(outside) + "): the grader "
                          "retrains only points of the space, so nothing was trained")
    _training_details(observations, details)
    failure, model = observations["training_error"], observations["model"]
    require(not failure, lambda: f"retraining BEST_HYPERPARAMETERS: {observations['budget']}: {failure}")
    accuracy, reference = max(observations["curve"]["val_accuracy"]), observations["reference_val_accuracy"]
    threshold = max(reference - settings.retrain_margin, settings.retrain_floor)
    floor = " (the rubric's floor: no reported point lowers it further)" if threshold == settings.retrain_floor else ""
    details.update(val_accuracy=accuracy, reference_val_accuracy=reference, reference_by_epoch=observations[
        "reference_by_epoch"], curve={**observations["curve"], "threshold": threshold})
    if observations["one_hot"]:
        details["labels"] = "one-hot, for the model's categorical loss (the budgeted training grades the loss)"
    needed = len(observations["reference_by_epoch"])
    require(accuracy >= threshold, lambda: (
        f"retrained at BEST_HYPERPARAMETERS for {observations['budget']}, the best validation accuracy is "
        f"{accuracy:.3f}; the reference model reaches {reference:.3f} at the same point after {needed} "
        f"epoch{'s' * (needed != 1)}, and the least accepted is {threshold:.3f}{floor}"
        + likely_causes(observations["curve"], model, tuned_rate=observations["tuned_rate"],
                        rtol=settings.learning_rate_rtol)))


def _training_details(observations: dict, details: dict) -> None:
    for key in ("not_declared", "short"):
        if observations.get(key):
            details[key] = observations[key]


def _one_hot(model: dict) -> str:
    note = one_hot_note(model)
    return f"\n{note[0].upper()}{note[1:]}" if note else ""


# -- the tuner ---------------------------------------------------------------------------------

@JUDGES("tuner_hyperband")
def tuner_hyperband(observations: dict, settings: Settings, details: dict) -> None:
    """make_tuner: a Hyperband on the validation accuracy, built with its arguments."""
    tuner = observations["tuner"]
    details.update({key: tuner.get(key) for key in ("class", "oracle", "objective", "direction", "max_epochs",
                                                    "factor", "hypermodel_calls")})
    problems = []
    if not tuner.get("is_hyperband"):
        problems.append(f"make_tuner returned a {tuner.get('class')}; expected keras_tuner.Hyperband")
    objective, logged = tuner.get("objective"), validation_accuracies(tuner)
    if objective != "val_accuracy" and objective not in logged:
        note = " (the training accuracy: it rewards overfitting)" if objective in ("accuracy", "acc") else ""
        expected = (f"the validation accuracy, which this model logs as {logged[0]!r}" if logged
                    and "val_accuracy" not in logged else "'val_accuracy'")
        problems.append(f"the objective is {objective!r}{note}; expected {expected}")
    elif tuner.get("direction") != "max":
        problems.append(f"the objective's direction is {tuner.get('direction')!r}; expected 'max'")
    elif objective != "val_accuracy":
        details["remark"] = (f"the objective {objective!r} is the validation accuracy this model logs (metrics="
                             f"[{objective.removeprefix('val_')!r}]): it is val_accuracy")
    if tuner.get("hypermodel_calls") == 0:
        problems.append("the tuner never built a model with the hypermodel argument of make_tuner (a global "
                        "build_model instead?): pass hypermodel to kt.Hyperband")
    if not tuner.get("uses_directory"):
        problems.append(f"the tuner ignores the directory argument (it writes to {tuner.get('directory')!r}): pass "
                        "directory=directory")
    if not tuner.get("uses_project_name"):
        problems.append(f"the tuner ignores the project_name argument (its project is {tuner.get('project_name')!r}): "
                        "pass project_name=project_name")
    require(not problems, lambda: "; ".join(problems))


def validation_accuracies(tuner: dict) -> list[str]:
    """The names the tuner's models log their validation accuracy under ("val_acc" for metrics=["acc"])."""
    built = tuner.get("built_model") if isinstance(tuner.get("built_model"), dict) else {}
    return [f"val_{name}" for name in built.get("accuracy_metrics") or [] if isinstance(name, str)]


@JUDGES("capped_search")
def capped_search(observations: dict, settings: Settings, details: dict) -> None:
    """A capped search with the student's tuner completes with a best score."""
    search, tuner = observations["search"], observations["tuner"]
    trials = [t for t in search.get("trials") or [] if isinstance(t, dict)]
    details.update(trials=[{key: t.get(key) for key in ("id", "status", "score", "message")} for t in trials],
                   best_score=search.get("best_score"))
    if search.get("one_hot"):
        details["labels"] = "one-hot, for the model's categorical loss (the budgeted training grades the loss)"
    best = search.get("best_score")
    if isinstance(best, (int, float)) and math.isfinite(best):
        return
    causes = sorted({str(t.get("message")) for t in trials if t.get("message")})
    cause = f": {causes[0]}" if causes else ""
    objective, logged = str(tuner.get("objective")), validation_accuracies(tuner)
    if causes and (objective in causes[0] or "Objective value missing" in causes[0]):
        cause += (f" (no trial reported {objective!r}: the model logs its validation accuracy as {logged[0]!r}; use "
                  f"objective={logged[0]!r}, or compile with metrics=['accuracy'])" if logged else
                  f" (no trial reported {objective!r}: does build_model compile with metrics=['accuracy']?)")
    stopped = f" (the search stopped with {search['error']})" if search.get("error") else ""
    require(trials, f"the capped search ran no trial{stopped}")
    statuses = ", ".join(sorted({str(t.get("status")) for t in trials}))
    raise CheckFailed(f"every trial failed ({len(trials)} of {len(trials)}: {statuses}), so the search has "
                      f"no best score{cause}{stopped}")


# -- reported results ----------------------------------------------------------------------------

@JUDGES("reported_hyperparameters")
def reported_hyperparameters(observations: dict, settings: Settings, details: dict) -> None:
    differences = space.reported_differences(observations["reported"])
    details["differences"] = differences
    require(not differences, lambda: "BEST_HYPERPARAMETERS lies outside the search space: " + _listed(differences))


@JUDGES("reported_val_accuracy")
def reported_val_accuracy(observations: dict, settings: Settings, details: dict) -> None:
    value, text, chance = observations["value"], observations["text"], settings.chance_accuracy
    require(not (math.isfinite(value) and 1.0 < value <= 100.0),
            lambda: f"BEST_VAL_ACCURACY is {text}: it looks like a percentage; give a fraction in [0, 1]")
    require(math.isfinite(value) and chance < value <= 1.0,
            lambda: f"BEST_VAL_ACCURACY is {text}; expected a fraction in [0, 1] above chance ({chance:g}) for a "
                    "tuned model")


def _listed(items: list[str]) -> str:
    more = f"; and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return "; ".join(items[:MAX_LISTED]) + more

