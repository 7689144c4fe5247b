"""A q1 sample: the tuner is made inside the search function; there is no make_tuner (test data).

Expected: only q1.tuner.hyperband and q1.tuner.search fail, saying make_tuner is missing
(tests/golden/q1_no_make_tuner/q1.json).
"""
import keras
import keras_tuner as kt
from keras import layers


def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for i in range(hp.Int("conv_layers", 2, 5)):
        model.add(layers.Conv2D(hp.Int(f"filters_{i}", 32, 256, step=32), hp.Choice(f"kernel_{i}", [3, 5]),
                                padding="same", activation="relu"))
        model.add(layers.MaxPooling2D(2, padding="same"))
    model.add(layers.Flatten())
    for i in range(hp.Int("dense_layers", 2, 5)):
        model.add(layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
        model.add(layers.Dropout(hp.Float(f"dropout_{i}", 0.0, 0.5, step=0.1)))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run_search(x_train, y_train, x_val, y_val):  # MISTAKE: the contract asks for make_tuner(...)
    tuner = kt.Hyperband(build_model, objective="val_accuracy", max_epochs=9, factor=3,
                         directory="tuning", project_name="hw3_q1")
    tuner.search(x_train, y_train, validation_data=(x_val, y_val))
    return tuner


BEST_HYPERPARAMETERS = {
    "conv_layers": 3, "filters_0": 224, "kernel_0": 3, "filters_1": 96, "kernel_1": 5,
    "dense_layers": 5, "units_0": 64, "dropout_0": 0.1, "units_1": 160, "dropout_1": 0.0,
    "learning_rate": 0.0005, "filters_2": 192, "kernel_2": 3, "units_2": 224, "dropout_2": 0.0,
    "units_3": 128, "dropout_3": 0.0, "units_4": 64, "dropout_4": 0.0,
}
BEST_VAL_ACCURACY = 0.955
