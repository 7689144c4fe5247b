"""Hostile sample (test data for the grader): BEST_HYPERPARAMETERS reports a point far outside the search
space, a million filters in each of 5 convolutions of 5x5 kernels, and build_model honours whatever
value it is given (KerasTuner returns a value set before a declaration without checking its range).
Retrained as reported, the student's model and the reference's would keep the grading process busy for
hours and fill its memory (issue 21: student values never drive trusted work).
Expected: q1.reported.hyperparameters and q1.reported.retrain fail at once, naming the values, and nothing
trains at that point (tests/golden/malicious/q1_huge_filters/q1.json; the retrain check is made visible
by run.json). The rest of q1 is graded as usual.
"""
import keras
import keras_tuner as kt  # noqa: F401 - the grader hands build_model a keras_tuner.HyperParameters


def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for i in range(hp.Int("conv_layers", 2, 5)):
        model.add(keras.layers.Conv2D(hp.Int(f"filters_{i}", 32, 256, step=32), hp.Choice(f"kernel_{i}", [3, 5]),
                                      padding="same", activation="relu"))
        model.add(keras.layers.MaxPooling2D(2, padding="same"))
    model.add(keras.layers.Flatten())
    for i in range(hp.Int("dense_layers", 2, 5)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
        model.add(keras.layers.Dropout(hp.Float(f"dropout_{i}", 0.0, 0.5, step=0.1)))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


BEST_HYPERPARAMETERS = {"conv_layers": 5, "dense_layers": 5, "learning_rate": 0.001,
                        **{f"filters_{i}": 1_000_000 for i in range(5)}, **{f"kernel_{i}": 5 for i in range(5)},
                        **{f"units_{i}": 1_000_000 for i in range(5)}, **{f"dropout_{i}": 0.0 for i in range(5)}}
BEST_VAL_ACCURACY = 0.999
