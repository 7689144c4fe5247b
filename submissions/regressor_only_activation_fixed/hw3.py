"""A sample q3 submission (test data): the handed-out regressor with only its sigmoid output replaced.

Still wrong: unscaled features, samples shaped (n_features, 1), the needless Flatten.
Expected: the scaling and layout checks fail, and both R² checks fail naming those two
causes (tests/golden/regressor_only_activation_fixed/q3.json).
"""
import keras


def preprocess(X_train, X_test):
    return X_train.reshape(len(X_train), -1, 1), X_test.reshape(len(X_test), -1, 1)


def build_regressor(input_shape):
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv1D(64, kernel_size=1, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(1),  # the only fix: no sigmoid
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model
