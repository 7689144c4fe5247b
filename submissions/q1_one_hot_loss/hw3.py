"""A q1 sample: the model is compiled for one-hot labels, loss='categorical_crossentropy', as for
labels passed through keras.utils.to_categorical (test data for the grader). The contract's labels
are integers 0..9, on which Keras 3 refuses that loss.
Expected: only q1.train.budget fails, naming sparse_categorical_crossentropy; the corner builds, the
capped search (given one-hot labels) and, with --hidden, the retrain do not
(tests/golden/q1_one_hot_loss/q1.json).
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
    model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                  loss="categorical_crossentropy", metrics=["accuracy"])  # MISTAKE: for one-hot labels
    return model


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=10, factor=3,
                        directory=directory, project_name=project_name)


BEST_HYPERPARAMETERS = {"conv_layers": 2, "filters_0": 64, "kernel_0": 3, "filters_1": 128, "kernel_1": 5,
                        "dense_layers": 2, "units_0": 128, "dropout_0": 0.2, "units_1": 64, "dropout_1": 0.0,
                        "learning_rate": 0.001}
BEST_VAL_ACCURACY = 0.9887
