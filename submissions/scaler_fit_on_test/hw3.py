"""A sample q3 submission (test data): the regressor is fixed, but the scaler is fitted on train + test.

Expected: only the leakage check fails, and says so (tests/golden/scaler_fit_on_test/q3.json).
"""
import keras
import numpy as np
from sklearn.preprocessing import StandardScaler


def preprocess(X_train, X_test):
    scaler = StandardScaler().fit(np.vstack([X_train, X_test]))  # MISTAKE: fit on X_train only
    return scaler.transform(X_train)[:, np.newaxis, :], scaler.transform(X_test)[:, np.newaxis, :]


def build_regressor(input_shape):
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv1D(64, kernel_size=1, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model
