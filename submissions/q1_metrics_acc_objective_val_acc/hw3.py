"""A q1 sample, correct: the model is compiled with metrics=['acc'], so Keras logs the validation
accuracy as 'val_acc', and the Hyperband objective names it so (test data for the grader). The
objective is the validation accuracy the model logs: it is val_accuracy.
Expected: full marks, a remark on q1.tuner.hyperband (tests/golden/q1_metrics_acc_objective_val_acc/q1.json).
"""
import keras
import keras_tuner as kt
from keras import layers


def build_model(hp):
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for i in range(hp.Int("conv_layers", 2, 5)):
        x = layers.Conv2D(hp.Int(f"filters_{i}", 32, 256, step=32), hp.Choice(f"kernel_{i}", [3, 5]),
                          padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(padding="same")(x)
    x = layers.Flatten()(x)
    for i in range(hp.Int("dense_layers", 2, 5)):
        x = layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu")(x)
        x = layers.Dropout(hp.Float(f"dropout_{i}", 0.0, 0.5, step=0.1))(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["acc"])
    return model


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_acc", max_epochs=12, factor=3,
                        directory=directory, project_name=project_name)


BEST_HYPERPARAMETERS = {"conv_layers": 3, "filters_0": 64, "kernel_0": 5, "filters_1": 128, "kernel_1": 3,
                        "filters_2": 128, "kernel_2": 3, "dense_layers": 2, "units_0": 256, "dropout_0": 0.3,
                        "units_1": 128, "dropout_1": 0.1, "learning_rate": 0.0005}
BEST_VAL_ACCURACY = 0.9903
