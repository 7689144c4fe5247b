"""q1 probes: run the student's `build_model(hp)` and `make_tuner(...)` inside the worker.

Everything returned is plain data (names, numbers, short strings); a Keras or KerasTuner error
in student code is returned as its one-line cause and the place in the student's code that raised it
(keras_facts.student_cause) rather than raised, so the grader can say which point of the search space
broke. The student functions a probe needs are looked up by the worker and passed in by name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import keras
import keras_tuner as kt
import numpy as np

from . import keras_facts
from .keras_facts import student_cause
from .q1_search import RecordingHyperModel, capped_search_results, describe_tuner, scalar


def declared_space(*, build_model, counts):
    """Every hyperparameter `build_model` declares: built at its defaults, then with `counts` set.

    Args:
        counts: layer-count values to set before the second build, e.g. {"conv_layers": 5},
            so that the per-layer hyperparameters of the deepest model register too.
    Returns:
        {"hyperparameters": [description, ...] in declaration order, "builds": [{"label",
        "error", "layers"}, ...]}.
    """
    seen, builds = {}, []
    for label, preset in (("defaults", {}), ("layer counts at their maxima", counts)):
        hp = kt.HyperParameters()
        hp.values.update(preset)
        model, error = _build(build_model, hp)
        builds.append({"label": label, "error": error, "layers": _layer_classes(model)})
        for declared in hp.space:
            seen.setdefault(declared.name, _describe_hyperparameter(declared))
    return {"hyperparameters": list(seen.values()), "builds": builds}


def corner_build(*, build_model, values, images):
    """Build at one point of the space and describe the compiled model.

    Args:
        values: hyperparameter values set before `build_model` runs (its declarations read them).
        images: a few (n, 28, 28, 1) float32 inputs for one forward pass.
    Returns:
        {"error"} when the build failed, else output shape, softmax-ness of the outputs, the
        final activation, loss, optimizer, learning rate (or why it cannot be read), parameter
        count and the layers that hyperparameters configure ("layers": [{"class", "kind", ...}]);
        always "undeclared" (names in `values` that build_model never declared).
    """
    hp = kt.HyperParameters()
    hp.values.update(values)
    model, error = _build(build_model, hp)
    result = {"error": error, "undeclared": _undeclared(hp, values)}
    if model is None:
        return result
    result["layers"] = _layers(model)  # before the call below, which may fail
    try:  # called before anything else: a Sequential without an Input is built by its first call
        outputs = np.asarray(model(np.asarray(images, dtype=np.float32), training=False), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - student code
        result["error"] = f"the built model could not be called on a batch of digits: {student_cause(exc)}"
        return result
    result.update(_compiled(model), output_shape=[None, *(int(d) for d in outputs.shape[1:])],
                  min_output=float(np.min(outputs)) if outputs.size else None,
                  row_sums=np.sum(outputs, axis=-1).tolist() if outputs.ndim == 2 else None)
    return result


def budgeted_training(*, build_model, values, x_train, y_train, x_val, epochs, batch_size, each_epoch=True,
                      seed=None, adapt_labels=False, stop=None):
    """Build at `values`, train with a fixed budget, and predict `x_val` after every epoch (or, with
    `each_epoch` false, after the last only: predicting costs a third of a training pass).

    The validation labels stay in the grader, which computes the accuracy from these
    predictions; they do not depend on the metrics the student compiled with either.

    Args:
        seed: when given, Keras is seeded with it before the model is built (the hidden retrain:
            the student's model and the reference's start alike, whatever the grading's seed).
        adapt_labels: give a model compiled for one-hot labels (categorical cross-entropy) one-hot
            labels; without it, every model gets the contract's integer labels.
        stop: `stop(outputs)`, called with the outputs after each epoch, ends the training when it
            returns true (for the grader's own trusted callers, which hold the labels).

    Returns:
        {"error", "undeclared", "predictions": float32 (epochs, len(x_val), outputs) of the
        model's outputs, "history": {"loss", "accuracy"?} as fit reports them, "seconds",
        "model": description of the compiled model (`_described`), given when it was built,
        "one_hot": whether the labels were one-hot encoded}.
    """
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    hp = kt.HyperParameters()
    hp.values.update(values)
    model, error = _build(build_model, hp)
    result = {"error": error, "undeclared": _undeclared(hp, values), "history": {}}
    if model is None:
        return result
    result["model"] = _described(model)
    x_train = np.asarray(x_train, dtype=np.float32)
    labels = np.asarray(y_train)
    result["one_hot"] = bool(adapt_labels and keras_facts.wants_one_hot_labels(model))
    if result["one_hot"]:
        labels = np.eye(10, dtype=np.float32)[labels]
    tracker = _EpochPredictions(np.asarray(x_val, dtype=np.float32), int(batch_size),
                                last=None if each_epoch else int(epochs) - 1, x_train=x_train, stop=stop)
    started = time.perf_counter()
    try:
        fitted = model.fit(x_train, labels, epochs=int(epochs),
                           batch_size=int(batch_size), callbacks=[tracker], verbose=0, shuffle=True)
    except Exception as exc:  # noqa: BLE001 - student code
        result["error"] = f"training failed: {student_cause(exc)}"
        return result
    history = {key: [float(v) for v in fitted.history[key]] for key in ("loss", "accuracy") if key in fitted.history}
    result.update(history=history, seconds=time.perf_counter() - started, predictions=tracker.stacked())
    return result


def capped_search(*, make_tuner, build_model, fixed, x_train, y_train, x_val, y_val, max_trials, max_epochs,
                  batch_size, project_name="q1_capped"):
    """Make the student's tuner, describe it, then run a small search with it.

    KerasTuner needs validation labels to score a trial: the grader passes two parts of the
    training split, whose labels grade nothing (the search is graded on completing only).

    `make_tuner` gets `build_model` wrapped, so that the description says whether the tuner builds
    with the hypermodel it was given and what the models it built log (their accuracy metrics and
    loss); a model compiled for one-hot labels gets them here (that mistake is the budgeted
    training's). The oracle's space is replaced by `fixed` (hp.Fixed: the expensive dimensions held
    small) plus the student's other declared hyperparameters, with tune_new_entries=False; the search
    stops after `max_trials` trials, and each trial after `max_epochs` epochs. The tuner's files go
    to a temporary folder in the worker's TMPDIR, which is also the working directory meanwhile.

    Returns:
        {"tuner": description, "search": {"trials", "best_score", "best_values", "error", "seconds",
        "one_hot"}}, or {"error"} when make_tuner itself failed.
    """
    workdir = tempfile.mkdtemp(prefix="q1_tuner-", dir=os.environ.get("TMPDIR"))
    previous = os.getcwd()
    os.chdir(workdir)  # a tuner that ignores `directory` writes here, not beside the submission
    try:
        directory = os.path.join(workdir, "trials")
        hypermodel = RecordingHyperModel(build_model)
        try:
            tuner = make_tuner(hypermodel, directory, project_name)
        except Exception as exc:  # noqa: BLE001 - student code
            return {"error": f"make_tuner(...) raised {student_cause(exc)}"}
        description = describe_tuner(tuner, directory, project_name, hypermodel)
        if not description["is_tuner"]:
            return {"tuner": description, "search": {"error": "make_tuner did not return a KerasTuner tuner"}}
        one_hot = hypermodel.wants_one_hot
        labels = [np.asarray(y) for y in (y_train, y_val)]
        if one_hot:
            labels = [np.eye(10, dtype=np.float32)[y] for y in labels]
        data = (np.asarray(x_train, dtype=np.float32), labels[0], np.asarray(x_val, dtype=np.float32), labels[1])
        search = capped_search_results(tuner, fixed, data, int(max_trials), int(max_epochs), int(batch_size))
        description.update(hypermodel.description())  # what the trials' models logged, too
        return {"tuner": description, "search": {**search, "one_hot": one_hot}}
    finally:
        os.chdir(previous)
        shutil.rmtree(workdir, ignore_errors=True)


# -- helpers ------------------------------------------------------------------------------

def _build(build_model, hp):
    """(model, None) or (None, one-line cause)."""
    try:
        model = build_model(hp)
    except Exception as exc:  # noqa: BLE001 - student code
        return None, student_cause(exc)
    if not isinstance(model, keras.Model):
        return None, f"build_model returned a {type(model).__module__}.{type(model).__name__}, not a keras Model"
    return model, None


def _describe_hyperparameter(declared) -> dict:
    config = declared.get_config()
    kind = type(declared).__name__
    values = config.get("values")
    return {
        "name": declared.name,
        "type": kind,
        "min": config.get("min_value"),
        "max": config.get("max_value"),
        "step": config.get("step"),
        "sampling": config.get("sampling"),
        "values": None if values is None else [scalar(v) for v in values],
        "default": scalar(config["value"] if kind == "Fixed" else getattr(declared, "default", None)),
        "conditional": bool(config.get("conditions")),
    }


def _layer_classes(model) -> list:
    return [] if model is None else [type(layer).__name__ for layer in model.layers]


def _undeclared(hp, values) -> list:
    return sorted(name for name in values if not any(d.name == name for d in hp.space))


def _compiled(model) -> dict:
    """A built model's description (`_described`), its parameter count and whether it is compiled."""
    optimizer = getattr(model, "optimizer", None)
    return {"compiled": bool(getattr(model, "compiled", optimizer is not None)), **_described(model),
            "params": int(model.count_params())}


def _described(model) -> dict:
    """What the grader's messages name about a model: its loss (name, from_logits, whether it wants
    one-hot labels), optimizer and learning rate (a schedule's initial rate), the metrics it logs as
    accuracies, its final activation and the layers hyperparameters configure."""
    optimizer = getattr(model, "optimizer", None)
    rate, schedule, problem = keras_facts.initial_learning_rate(optimizer)
    loss, from_logits = keras_facts.loss_facts(getattr(model, "loss", None))
    return {
        "loss": loss,
        "from_logits": from_logits,
        "one_hot_loss": keras_facts.wants_one_hot_labels(model),
        "optimizer": None if optimizer is None else type(optimizer).__name__,
        "learning_rate": rate,
        "learning_rate_schedule": schedule,
        "learning_rate_problem": problem,
        "accuracy_metrics": keras_facts.accuracy_metrics(model),
        "final_activation": _final_activation(model),
        "layers": _layers(model),
    }


def _layers(model) -> list[dict]:
    """The layers hyperparameters configure, in order (nested models flattened)."""
    described = []
    for layer in keras_facts.flat_layers(model):
        entry = {"class": type(layer).__name__}
        try:
            if isinstance(layer, keras.layers.Conv2D):
                entry.update(kind="conv", filters=int(layer.filters), kernel=[int(k) for k in layer.kernel_size],
                             activation=keras_facts.activation_name(layer))
            elif isinstance(layer, keras.layers.Dense):
                entry.update(kind="dense", units=int(layer.units), activation=keras_facts.activation_name(layer))
            elif isinstance(layer, keras.layers.Dropout):
                entry.update(kind="dropout", rate=float(layer.rate))
        except Exception:  # noqa: BLE001 - a student's layer subclass with odd attributes
            entry["kind"] = None
        described.append(entry)
    return described


def _final_activation(model):
    for layer in reversed(model.layers):
        activation = getattr(layer, "activation", None)
        if activation is not None:
            return getattr(activation, "__name__", type(activation).__name__)
    return None


class _EpochPredictions(keras.callbacks.Callback):
    """The model's outputs on the validation digits after each epoch (no labels here)."""

    def __init__(self, x_val, batch_size, last=None, x_train=None, stop=None):
        super().__init__()
        self.x_val, self.batch_size, self.last, self.outputs = x_val, batch_size, last, []
        self.x_train, self.stop = x_train, stop

    def on_epoch_end(self, epoch, logs=None):
        if self.last is not None and epoch != self.last:
            return
        if self.x_train is not None:
            _settle_batch_norm(self.model, self.x_train, self.batch_size)
        predictions = self.model.predict(self.x_val, batch_size=self.batch_size, verbose=0)
        self.outputs.append(np.asarray(predictions, dtype=np.float32))
        if self.stop is not None and self.stop(self.outputs[-1]):
            self.model.stop_training = True

    def stacked(self) -> np.ndarray:
        shapes = {output.shape for output in self.outputs}
        if not shapes:
            raise ValueError("the training ended before its last epoch: the model made no predictions")
        if len(shapes) != 1:
            raise ValueError(f"the model's outputs changed shape between epochs: {sorted(shapes)}")
        return np.stack(self.outputs)


def _settle_batch_norm(model, x_train, batch_size, most=1024) -> None:
    """Set BatchNormalization's moving statistics to the plain average over training batches.

    With momentum 0.99, the grader's few dozen steps leave them mostly at their initial values, and
    a model with BatchNormalization predicts badly (0.46-0.49 where the same model without it reaches
    0.85): an artefact of the grader's budget, which a student's own training does not have. Training
    itself uses each batch's statistics and is not changed; only models with the layer pay for this.
    """
    layers = [layer for layer in keras_facts.flat_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers:
        return
    momenta = [layer.momentum for layer in layers]
    try:
        for index, start in enumerate(range(0, min(len(x_train), most) - batch_size + 1, batch_size)):
            for layer in layers:
                layer.momentum = index / (index + 1)  # the running mean of the batches' statistics
            model(x_train[start:start + batch_size], training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


