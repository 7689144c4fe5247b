"""A q1 sample: 'valid' convolutions and a pool after every second one, so that 5 conv layers with
5x5 kernels shrink the map to nothing (test data for the grader). BEST_HYPERPARAMETERS comes from a
search run before the padding was changed, at a point this build_model can no longer build.

Expected: only q1.corner.max fails (and, with --hidden, q1.reported.retrain), with Keras's cause
(tests/golden/q1_breaks_at_5_conv_5x5/q1.json, tests/reference/test_reference_q1.py).
"""
import keras
import keras_tuner as kt
from keras import layers


def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for i in range(hp.Int("conv_layers", 2, 5)):
        model.add(layers.Conv2D(hp.Int(f"filters_{i}", 32, 256, step=32), hp.Choice(f"kernel_{i}", [3, 5]),
                                activation="relu"))  # MISTAKE: 'valid' padding shrinks every layer
        if i % 2 == 1:
            model.add(layers.MaxPooling2D(2))
    model.add(layers.Flatten())
    for i in range(hp.Int("dense_layers", 2, 5)):
        model.add(layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
        model.add(layers.Dropout(hp.Float(f"dropout_{i}", 0.0, 0.5, step=0.1)))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=9, factor=3,
                        directory=directory, project_name=project_name)


BEST_HYPERPARAMETERS = {
    "conv_layers": 5, "filters_0": 64, "kernel_0": 5, "filters_1": 64, "kernel_1": 5,
    "filters_2": 128, "kernel_2": 5, "filters_3": 128, "kernel_3": 5, "filters_4": 128, "kernel_4": 5,
    "dense_layers": 2, "units_0": 128, "dropout_0": 0.2, "units_1": 64, "dropout_1": 0.1,
    "learning_rate": 0.001,
}
BEST_VAL_ACCURACY = 0.962
