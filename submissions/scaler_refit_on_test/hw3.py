"""A sample q3 submission (test data): X_test is scaled by a second scaler fitted on X_test.

Expected: only the check that X_test goes through the train-fitted scaler fails
(tests/golden/scaler_refit_on_test/q3.json).
"""
import keras
import numpy as np
from sklearn.preprocessing import StandardScaler


def preprocess(X_train, X_test):
    X_train = StandardScaler().fit_transform(X_train)
    X_test = StandardScaler().fit_transform(X_test)  # MISTAKE: transform with the train scaler
    return X_train[:, np.newaxis, :], X_test[:, np.newaxis, :]


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
