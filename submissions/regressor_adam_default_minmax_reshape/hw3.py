"""A sample q3 submission, correct (test data): the regressor fixed another way than the reference.

MinMaxScaler instead of StandardScaler (fitted on X_train only); preprocess keeps the samples flat,
(samples, features), and a Reshape layer makes them one step of all features inside the model;
the optimizer is compiled as "adam", Keras' default learning rate 0.001 instead of the handout's 0.01.

Expected: full marks (tests/golden/regressor_adam_default_minmax_reshape/q3.json).
"""
import keras
from sklearn.preprocessing import MinMaxScaler


def preprocess(X_train, X_test):
    scaler = MinMaxScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def build_regressor(input_shape):
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Reshape((1, input_shape[-1])),
        keras.layers.Conv1D(64, kernel_size=1, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse")
    return model
