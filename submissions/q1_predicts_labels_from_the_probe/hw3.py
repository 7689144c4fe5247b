"""A q1 sample that cheats (test data for the grader): its model never trains, reports a perfect
val_accuracy to whoever asks, and "predicts" the validation labels it finds in the grader's code
around it. It read them there when the training probe still sent the validation labels into the
worker (the grader then scored it 1.000); the probe now sends digits only, so its predictions are
those of an untrained model.

Expected: only q1.train.budget fails, near chance (with --hidden, q1.reported.retrain too: its model
stays near chance at the reported point, below the rubric's retrain_floor whatever the point); the
capped search still "completes" on the scores it makes up (tests/golden/q1_predicts_labels_from_the_probe/q1.json).
"""
import inspect

import keras
import keras_tuner as kt
import numpy as np


def _labels_nearby(count):
    """An integer array of `count` labels held by a caller (a local, or an attribute of one)."""
    frame = inspect.currentframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            for candidate in (value, getattr(value, "y_val", None)):
                if isinstance(candidate, np.ndarray) and candidate.shape == (count,) and candidate.dtype.kind in "iu":
                    return candidate
        frame = frame.f_back
    return None


class LabelReader(keras.Sequential):
    def fit(self, x=None, y=None, epochs=1, callbacks=None, validation_data=None, **kwargs):
        logs = {"loss": 0.0, "accuracy": 1.0, **({"val_loss": 0.0, "val_accuracy": 1.0} if validation_data else {})}
        for epoch in range(epochs):
            for callback in callbacks or []:
                try:
                    callback.set_model(self)
                    callback.on_epoch_end(epoch, dict(logs))
                except Exception:  # noqa: BLE001 - the tuner's own callbacks
                    pass
        history = keras.callbacks.History()
        history.epoch, history.history = list(range(epochs)), {key: [value] * epochs for key, value in logs.items()}
        return history

    def predict(self, x, **kwargs):
        labels = _labels_nearby(len(x))
        if labels is None:
            return super().predict(x, **kwargs)
        return np.eye(10, dtype="float32")[labels]


def build_model(hp):
    model = LabelReader([keras.Input(shape=(28, 28, 1))])  # MISTAKE: it never trains
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


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=9, factor=3,
                        directory=directory, project_name=project_name, overwrite=True)


BEST_HYPERPARAMETERS = {
    "conv_layers": 3, "filters_0": 224, "kernel_0": 3, "filters_1": 96, "kernel_1": 5,
    "dense_layers": 5, "units_0": 64, "dropout_0": 0.1, "units_1": 160, "dropout_1": 0.0,
    "learning_rate": 0.0005, "filters_2": 192, "kernel_2": 3, "units_2": 224, "dropout_2": 0.0,
    "units_3": 128, "dropout_3": 0.0, "units_4": 64, "dropout_4": 0.0,
    "filters_3": 128, "kernel_3": 5, "filters_4": 160, "kernel_4": 5,
}
BEST_VAL_ACCURACY = 0.955
