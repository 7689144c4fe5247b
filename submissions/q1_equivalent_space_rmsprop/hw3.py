"""A q1 sample, correct: the specified space written with other KerasTuner calls, RMSprop, 'valid'
convolutions and layers numbered from 1 (test data for the grader).

Every family takes exactly the values of the spec: conv_layers and dense_layers as a Choice of
2..5, kernels as Int(3, 5, step=2), filters as a Choice of powers of two from 32 to 256, units as
Int(32, 256, step=16), dropout as a Choice of its six values. The optimizer is RMSprop at the
tuned learning rate; a Dropout of rate 0 is left out. The convolutions are 'valid' with a single
pool at the end, so 5 layers of 5x5 kernels still fit (28 -> 8).

Expected: full marks (tests/golden/q1_equivalent_space_rmsprop/q1.json).
"""
import keras
import keras_tuner as kt
from keras import layers


def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for i in range(1, hp.Choice("conv_layers", [2, 3, 4, 5]) + 1):
        model.add(layers.Conv2D(hp.Choice(f"filters_{i}", [32, 64, 128, 256]), hp.Int(f"kernel_{i}", 3, 5, step=2),
                                padding="valid", activation="relu"))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.Flatten())
    for i in range(1, hp.Choice("dense_layers", [2, 3, 4, 5]) + 1):
        model.add(layers.Dense(hp.Int(f"units_{i}", 32, 256, step=16), activation="relu"))
        rate = hp.Choice(f"dropout_{i}", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
        if rate > 0:
            model.add(layers.Dropout(rate))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=9, factor=3,
                        directory=directory, project_name=project_name)


BEST_HYPERPARAMETERS = {
    "conv_layers": 2, "filters_1": 64, "kernel_1": 5, "filters_2": 32, "kernel_2": 3,
    "dense_layers": 2, "units_1": 176, "dropout_1": 0.2, "units_2": 64, "dropout_2": 0.0,
    "learning_rate": 0.001,
}
BEST_VAL_ACCURACY = 0.962
