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
    """Scale the features for training and testing.

    Args:
        X_train, X_test: 2-D arrays (samples, features).

    Returns:
        (Xtr, Xte): both scaled by a scaler fitted on X_train only, shaped for the model.
    """
    # BEGIN SOLUTION
    # Standardise with the statistics of X_train only; shape each sample as one step of
    # n_features features: (samples, 1, n_features).
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train)[:, np.newaxis, :], scaler.transform(X_test)[:, np.newaxis, :]
    # END SOLUTION


def build_regressor(input_shape):
    """The corrected regressor.

    Args:
        input_shape: the shape of one input, without the batch axis, as `preprocess` shapes it.

    Returns:
        A compiled keras.Model with one continuous output.
    """
    # BEGIN SOLUTION
    # The handed-out model without the needless second Flatten and with a linear output.
    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        keras.layers.Conv1D(64, kernel_size=1, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),  # linear: the target is any real number
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model
    # END SOLUTION


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
