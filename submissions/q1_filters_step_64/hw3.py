"""A q1 sample: filters_{i} is an Int from 32 to 256 with step 64, whose values stop at 224
(test data for the grader).

Expected: only q1.space.filters fails, naming the largest value it can take
(tests/golden/q1_filters_step_64/q1.json).
"""
import keras
import keras_tuner as kt


def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for i in range(hp.Int("conv_layers", 2, 5)):
        filters = hp.Int(f"filters_{i}", 32, 256, step=64)  # MISTAKE: 256 is never reached
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
    "learning_rate": 0.0005, "filters_2": 160, "kernel_2": 3, "units_2": 224, "dropout_2": 0.0,
    "units_3": 128, "dropout_3": 0.0, "units_4": 64, "dropout_4": 0.0,
    "filters_3": 96, "kernel_3": 5, "filters_4": 160, "kernel_4": 5,
}
BEST_VAL_ACCURACY = 0.955
