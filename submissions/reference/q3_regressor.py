"""Q3 reference: the Conv1D regressor students receive broken, and its fix.

The broken code (`broken_preprocess`, `broken_build_regressor`, as handed out) has four
mistakes: the features are not scaled; each sample is shaped (n_features, 1), a sequence of
one-number steps, where one step of n_features was meant; a needless Flatten sits before the
output layer; and the output's sigmoid cannot reach the target's range. The fix
(`preprocess`, `build_regressor`) changes exactly those four things.
"""

from __future__ import annotations

import keras
import numpy as np
from sklearn.preprocessing import StandardScaler

__all__ = ["preprocess", "build_regressor", "broken_preprocess", "broken_build_regressor"]


def preprocess(X_train, X_test):
    """Standardise with statistics of `X_train` only; shape each sample as one step of features.

    Returns:
        `(X_train, X_test)` transformed, each of shape (samples, 1, n_features).
    """
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train)[:, np.newaxis, :], scaler.transform(X_test)[:, np.newaxis, :]


def build_regressor(input_shape):
    """A compiled Conv1D regressor for inputs of `input_shape` (1, n_features)."""
    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        keras.layers.Conv1D(64, kernel_size=1, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),  # linear: the target is any real number
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model


def broken_preprocess(X_train, X_test):
    """The handed-out preprocessing: no scaling, and (samples, n_features, 1)."""
    return X_train.reshape(len(X_train), -1, 1), X_test.reshape(len(X_test), -1, 1)


def broken_build_regressor(input_shape):
    """The handed-out model: a needless Flatten, and a sigmoid output confined to (0, 1)."""
    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        keras.layers.Conv1D(64, kernel_size=1, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model
