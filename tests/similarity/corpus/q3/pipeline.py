from sklearn.preprocessing import StandardScaler
import keras


def preprocess(X_train, X_test):
    # fit on the training data ONLY, then apply to both
    scaler = StandardScaler()
    scaler.fit(X_train)
    shaped = []
    for part in (X_train, X_test):
        scaled = scaler.transform(part)
        shaped.append(scaled.reshape(scaled.shape[0], 1, scaled.shape[1]))
    return tuple(shaped)


def build_regressor(input_shape):
    model = keras.Sequential()
    model.add(keras.layers.Input(shape=tuple(input_shape)))
    model.add(keras.layers.Conv1D(filters=64, kernel_size=1, activation="relu"))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(64, activation="relu"))
    model.add(keras.layers.Dense(1))
    model.compile(optimizer="adam", loss="mse")
    return model
