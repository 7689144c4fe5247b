"""q1 probe helpers for the tuner (run inside the worker): the capped search with the student's
tuner, the hypermodel the grader hands `make_tuner`, and descriptions of the tuner and its trials as
plain data.
"""

from __future__ import annotations

import math
import os
import time

import keras
import keras_tuner as kt
import numpy as np

from . import keras_facts
from .keras_facts import student_cause


def scalar(value):
    """A hyperparameter value as plain data (a str for anything else)."""
    return value if isinstance(value, (bool, int, float, str)) or value is None else str(value)


class _EpochCap(keras.callbacks.Callback):
    """Stops one trial's training after `epochs` epochs, whatever Hyperband asked for."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs, self.done = epochs, 0

    def on_epoch_end(self, epoch, logs=None):
        self.done += 1
        if self.done >= self.epochs:
            self.model.stop_training = True


class RecordingHyperModel:
    """The `hypermodel` argument of `make_tuner`: the student's build_model, and a record of its use.

    KerasTuner builds once when a tuner is made and once per trial: a tuner that never calls this one
    builds with something else (a global build_model, say) and ignores its argument. The first model
    built says which names the trials log their accuracy under and whether the loss wants one-hot labels.
    """

    __name__ = "build_model"

    def __init__(self, build_model):
        self.build_model = build_model
        self.calls = 0
        self.first = None  # {"accuracy_metrics", "loss", "one_hot_loss"} of the first model built

    def __call__(self, hp):
        self.calls += 1
        model = self.build_model(hp)
        if self.first is None and isinstance(model, keras.Model):
            self.first = {"accuracy_metrics": keras_facts.accuracy_metrics(model),
                          "loss": scalar(keras_facts.loss_facts(getattr(model, "loss", None))[0]),
                          "one_hot_loss": keras_facts.wants_one_hot_labels(model)}
        return model

    @property
    def wants_one_hot(self) -> bool:
        return bool(self.first and self.first["one_hot_loss"])

    def description(self) -> dict:
        return {"hypermodel_calls": self.calls, "built_model": self.first}


def describe_tuner(tuner, directory, project_name, hypermodel=None) -> dict:
    oracle = getattr(tuner, "oracle", None)
    objective = getattr(oracle, "objective", None)
    return {
        "class": type(tuner).__name__,
        "is_tuner": isinstance(tuner, kt.engine.base_tuner.BaseTuner),
        "is_hyperband": isinstance(tuner, kt.Hyperband),
        "oracle": type(oracle).__name__,
        "objective": None if objective is None else str(getattr(objective, "name", objective)),
        "direction": None if objective is None else str(getattr(objective, "direction", "")),
        "max_epochs": scalar(getattr(oracle, "max_epochs", None)),
        "factor": scalar(getattr(oracle, "factor", None)),
        "uses_directory": _same_path(getattr(tuner, "directory", None), directory),
        "uses_project_name": getattr(tuner, "project_name", None) == project_name,
        "directory": str(getattr(tuner, "directory", "")),
        "project_name": str(getattr(tuner, "project_name", ""))[:200],
        **(hypermodel.description() if hypermodel is not None else {}),
    }


def _same_path(actual, expected) -> bool:
    return isinstance(actual, (str, os.PathLike)) and os.path.realpath(actual) == os.path.realpath(expected)


def _restrict(oracle, fixed) -> None:
    """The student's space with the expensive dimensions fixed; names not in it keep their defaults."""
    restricted = kt.HyperParameters()
    for name, value in fixed.items():
        restricted.Fixed(name, value)
    restricted.merge([hp for hp in oracle.hyperparameters.space if hp.name not in fixed])
    oracle.hyperparameters = restricted
    oracle.tune_new_entries = False


def capped_search_results(tuner, fixed, data, max_trials, max_epochs, batch_size) -> dict:
    x_train, y_train, x_val, y_val = data
    oracle = tuner.oracle
    _restrict(oracle, fixed)
    oracle.max_trials = max_trials  # Hyperband has no trial limit of its own; the base Oracle honours this
    started, error = time.perf_counter(), None
    try:
        tuner.search(x_train, y_train, validation_data=(x_val, y_val), batch_size=batch_size, verbose=0,
                     callbacks=[_EpochCap(max_epochs)])
    except Exception as exc:  # noqa: BLE001 - student code, or KerasTuner giving up on it
        error = student_cause(exc)
    trials = [_describe_trial(trial) for trial in oracle.trials.values()]
    scored = [t for t in trials if t["status"] == "COMPLETED" and t["score"] is not None]
    maximise = str(getattr(oracle.objective, "direction", "max")) == "max"
    best = max(scored, key=lambda t: t["score"] if maximise else -t["score"]) if scored else None
    return {"trials": trials, "best_score": None if best is None else best["score"],
            "best_values": None if best is None else best["values"], "error": error,
            "seconds": time.perf_counter() - started}


def _describe_trial(trial) -> dict:
    score = trial.score
    finite = isinstance(score, (int, float, np.floating)) and math.isfinite(float(score))
    values = {str(k): scalar(v) for k, v in trial.hyperparameters.values.items()}
    return {"id": str(trial.trial_id), "status": str(trial.status), "score": float(score) if finite else None,
            "values": values, "message": student_cause(trial.message) if trial.message else None}
