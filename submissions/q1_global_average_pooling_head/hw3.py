"""A q1 sample: right in every part the grader's probe can see (the space, a softmax output, sparse
categorical cross-entropy, Adam at the tuned rate), but with a GlobalAveragePooling2D head instead of
Flatten (test data for the grader). Such a model learns slowly from scratch: at the budget point it
stays far below the threshold in the grader's budget.
Expected: only q1.train.budget fails, saying that what the probe can check is right and naming the
GlobalAveragePooling2D head as what it cannot check (tests/golden/q1_global_average_pooling_head/q1.json).
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
    model.add(layers.GlobalAveragePooling2D())  # fewer parameters than Flatten
    for i in range(hp.Int("dense_layers", 2, 5)):
        model.add(layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
        model.add(layers.Dropout(hp.Float(f"dropout_{i}", 0.0, 0.5, step=0.1)))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=10, factor=3,
                        directory=directory, project_name=project_name)


BEST_HYPERPARAMETERS = {"conv_layers": 4, "filters_0": 64, "kernel_0": 3, "filters_1": 128, "kernel_1": 3,
                        "filters_2": 192, "kernel_2": 3, "filters_3": 256, "kernel_3": 3, "dense_layers": 2,
                        "units_0": 128, "dropout_0": 0.1, "units_1": 64, "dropout_1": 0.0, "learning_rate": 0.001}
BEST_VAL_ACCURACY = 0.9862
