"""Q1 reference: a KerasTuner-tuned CNN for MNIST, and the script that runs its Hyperband search.

Written to the student contract: `build_model(hp)` returns a compiled model for any point of the
search space, `make_tuner(hypermodel, directory, project_name)` returns the Hyperband tuner, and
`BEST_HYPERPARAMETERS` / `BEST_VAL_ACCURACY` are literals copied from the recorded search
(reference/q1_search_results.json, written by `python -m reference.q1_tuner --budget SECONDS`).

The search space (../shared/DESIGN.md gives names, types and ranges; the steps of filters_{i}
and units_{i} are this reference's choice, step 32, so 32, 64, ..., 256):
    conv_layers Int 2..5; filters_{i} Int 32..256 step 32; kernel_{i} Choice {3, 5};
    dense_layers Int 2..5; units_{i} Int 32..256 step 32; dropout_{i} Float 0.0..0.5 step 0.1;
    learning_rate Choice {1e-4, 5e-4, 1e-3}.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
import warnings
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np

__all__ = ["build_model", "make_tuner", "BEST_HYPERPARAMETERS", "BEST_VAL_ACCURACY"]

# Best point and validation accuracy of the recorded search (reference/q1_search_results.json:
# 11 Hyperband trials in 541 s, trial 0010 after 3 epochs). As KerasTuner reports them, the values
# include per-layer entries of layers this point does not have (filters_3, filters_4, ...).
BEST_HYPERPARAMETERS = {
    "conv_layers": 3, "filters_0": 224, "kernel_0": 3, "filters_1": 96, "kernel_1": 5,
    "dense_layers": 5, "units_0": 64, "dropout_0": 0.1, "units_1": 160, "dropout_1": 0.0,
    "learning_rate": 0.0005, "filters_2": 192, "kernel_2": 3, "units_2": 224, "dropout_2": 0.0,
    "units_3": 128, "dropout_3": 0.0, "units_4": 64, "dropout_4": 0.0,
    "filters_3": 128, "kernel_3": 5, "filters_4": 160, "kernel_4": 5,
}
BEST_VAL_ACCURACY = 0.955

_MAX_EPOCHS = 9  # a power of the factor: Hyperband's most aggressive bracket starts at 1 epoch
_FACTOR = 3
_TUNER_SEED = 7
_RESULTS_NAME = "q1_search_results.json"  # beside this file


def build_model(hp):
    """Build and compile the CNN for one point of the search space.

    Args:
        hp: a keras_tuner.HyperParameters; define every hyperparameter on it with the names of the table.

    Returns:
        A compiled keras.Model from (28, 28, 1) images to 10 class probabilities.
    """
    # BEGIN SOLUTION
    # Every convolution keeps its size ('same' padding) and is followed by a 'same' max-pool,
    # which halves the map rounding up (28, 14, 7, 4, 2, 1): every point of the space is a valid
    # model, including 5 conv layers with 5x5 kernels, and the deep points stay cheap.
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for i in range(hp.Int("conv_layers", 2, 5)):
        filters = hp.Int(f"filters_{i}", 32, 256, step=32)
        kernel = hp.Choice(f"kernel_{i}", [3, 5])
        model.add(keras.layers.Conv2D(filters, kernel, padding="same", activation="relu"))
        model.add(keras.layers.MaxPooling2D(2, padding="same"))
    model.add(keras.layers.Flatten())
    for i in range(hp.Int("dense_layers", 2, 5)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
        model.add(keras.layers.Dropout(hp.Float(f"dropout_{i}", 0.0, 0.5, step=0.1)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    learning_rate = hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    # END SOLUTION


def make_tuner(hypermodel, directory, project_name):
    """The Hyperband tuner of the search.

    Args:
        hypermodel: the function that builds a model from hp (build_model).
        directory, project_name: where the tuner keeps its trials.

    Returns:
        A keras_tuner.Hyperband tuner with objective "val_accuracy".
    """
    # BEGIN SOLUTION
    # max_epochs 9, factor 3, a fixed seed; an existing project is overwritten, so a rerun starts afresh.
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=_MAX_EPOCHS, factor=_FACTOR,
                        seed=_TUNER_SEED, directory=directory, project_name=project_name, overwrite=True)
    # END SOLUTION


# -- the reference search (python -m reference.q1_tuner --budget SECONDS) ----------------

def _images(x):
    return (np.asarray(x, dtype=np.float32) / 255.0)[..., np.newaxis]


def _rounded(value):
    return round(value, 10) if isinstance(value, float) else value  # 0.30000000000000004 -> 0.3


def _point_text(values: dict) -> str:
    conv, dense = values.get("conv_layers", 0), values.get("dense_layers", 0)

    def per_layer(family, count):
        return "/".join(str(_rounded(values.get(f"{family}_{i}"))) for i in range(count))

    return (f"conv {conv} x filters {per_layer('filters', conv)} kernels {per_layer('kernel', conv)}; "
            f"dense {dense} x units {per_layer('units', dense)} dropout {per_layer('dropout', dense)}; "
            f"lr {values.get('learning_rate')}")


class _Deadline(keras.callbacks.Callback):
    """Stops a trial's training at the first batch past the search's deadline."""

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() > self.deadline:
            self.model.stop_training = True


def _report_and_stop_at_deadline(tuner, started: float, deadline: float) -> None:
    """Print one line per finished trial; after the deadline let the oracle create no more."""
    end_trial = tuner.on_trial_end

    def on_trial_end(trial):
        end_trial(trial)
        score = "failed" if trial.score is None else f"val_accuracy {trial.score:.4f}"
        epochs = trial.hyperparameters.values.get("tuner/epochs")
        print(f"[{time.monotonic() - started:5.0f} s] trial {trial.trial_id} {trial.status.lower()}: {score} "
              f"after {epochs} epochs | {_point_text(trial.hyperparameters.values)}", flush=True)
        if time.monotonic() > deadline:
            tuner.oracle.max_trials = len(tuner.oracle.trials)

    tuner.on_trial_end = on_trial_end


def _search(budget_s: float, seed: int, validation_fraction: float) -> dict:
    from graders.core.mnist import load_mnist  # the grader's data module; never needed by build_model

    # Hyperband's checkpoints keep weights only; loading one into a compiled model warns each time.
    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
    keras.utils.set_random_seed(seed)
    split = load_mnist(seed=seed)
    n_val = int(round(len(split.y_train) * validation_fraction))
    x_train, y_train = _images(split.x_train[n_val:]), split.y_train[n_val:]
    x_val, y_val = _images(split.x_train[:n_val]), split.y_train[:n_val]
    started, cpu_started = time.monotonic(), time.process_time()
    deadline = started + budget_s
    with tempfile.TemporaryDirectory(prefix="q1_search-") as directory:
        tuner = make_tuner(build_model, directory, "q1_reference")
        _report_and_stop_at_deadline(tuner, started, deadline)
        tuner.search(x_train, y_train, validation_data=(x_val, y_val), batch_size=64, verbose=0,
                     callbacks=[_Deadline(deadline)])
        seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
        trials = list(tuner.oracle.trials.values())
        best = tuner.oracle.get_best_trials(1)[0]
        _, test_accuracy = tuner.get_best_models(1)[0].evaluate(_images(split.x_test), split.y_test, verbose=0)
    values = best.hyperparameters.values
    return {
        "best_hyperparameters": {k: _rounded(v) for k, v in values.items() if not k.startswith("tuner/")},
        "best_trial": {"id": best.trial_id, "epochs": values.get("tuner/epochs"),
                       "val_accuracy": best.score},
        "best_val_accuracy": best.score,
        "test_accuracy": float(test_accuracy),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "budget_s": budget_s,
        "trials_run": len(trials),
        "trials_completed": sum(t.status == "COMPLETED" for t in trials),
        "tuner": {"class": "Hyperband", "objective": "val_accuracy", "max_epochs": _MAX_EPOCHS,
                  "factor": _FACTOR, "seed": _TUNER_SEED},
        "data": {**split.describe(), "n_search_train": len(y_train), "n_search_val": len(y_val),
                 "seed": seed, "batch_size": 64},
        "versions": {"keras": keras.__version__, "keras_tuner": kt.__version__},
    }


def _main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run the q1 reference Hyperband search on MNIST.")
    parser.add_argument("--budget", type=float, required=True, help="wall-clock seconds for the search")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data split and of Keras")
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / _RESULTS_NAME)
    args = parser.parse_args(argv)
    if not (args.budget > 0 and math.isfinite(args.budget)):
        parser.error("--budget must be a positive number of seconds")
    results = _search(args.budget, args.seed, args.validation_fraction)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"best val_accuracy {results['best_val_accuracy']:.4f} (test {results['test_accuracy']:.4f}) after "
          f"{results['trials_run']} trials in {results['seconds']:.0f} s: {results['best_hyperparameters']}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    _main()
