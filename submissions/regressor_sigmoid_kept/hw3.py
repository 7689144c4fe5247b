"""A sample q3 submission (test data): scaled and reshaped right, the needless Flatten removed, but the
sigmoid output kept, so every prediction lies in (0, 1) while the targets are centred near 10.

Expected: only the two R² checks fail, naming the output activation as the likely cause
(tests/golden/regressor_sigmoid_kept/q3.json).
"""
import keras
import numpy as np
from sklearn.preprocessing import StandardScaler


def preprocess(X_train, X_test):
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train)[:, np.newaxis, :], scaler.transform(X_test)[:, np.newaxis, :]


def build_regressor(input_shape):
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv1D(64, kernel_size=1, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),  # MISTAKE: the output cannot leave (0, 1)
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model
