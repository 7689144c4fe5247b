"""A q1 sample, correct: Adam with an ExponentialDecay schedule whose initial learning rate is the
tuned learning_rate (test data for the grader). A schedule that starts at the tuned rate is the tuned
rate: full marks, with a remark.
Expected: full marks, a remark on q1.space.learning_rate (tests/golden/q1_lr_schedule_exponential_decay/q1.json).
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
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3]), decay_steps=1000, decay_rate=0.9)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr_schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=10, factor=3,
                        directory=directory, project_name=project_name, overwrite=True)


BEST_HYPERPARAMETERS = {"conv_layers": 2, "filters_0": 96, "kernel_0": 3, "filters_1": 160, "kernel_1": 3,
                        "dense_layers": 2, "units_0": 192, "dropout_0": 0.2, "units_1": 96, "dropout_1": 0.1,
                        "learning_rate": 0.001}
BEST_VAL_ACCURACY = 0.9894
