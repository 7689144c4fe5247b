"""A q1 sample: build_model and make_tuner are right, but the search's results were never copied
into BEST_HYPERPARAMETERS and BEST_VAL_ACCURACY (test data for the grader).

Expected: q1.reported.hyperparameters and q1.reported.val_accuracy fail with 0 points, saying the names
are not defined (with --hidden, q1.reported.retrain too); the maximum score stays that of any other
submission (tests/golden/q1_no_reported_results/q1.json).
"""
import keras
import keras_tuner as kt


def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for i in range(hp.Int("conv_layers", 2, 5)):
        filters = hp.Int(f"filters_{i}", 32, 256, step=32)
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


# The search ran in the notebook; its results were not copied here.
