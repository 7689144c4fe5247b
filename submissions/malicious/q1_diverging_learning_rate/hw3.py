"""Hostile sample (test data for the grader): BEST_HYPERPARAMETERS reports a learning rate of 50, outside
the search space, at which Adam diverges: the reference model retrained there would stay at chance or
below, and with it a threshold taken from the reference, so that a model that learns nothing would pass
q1.reported.retrain (issue 21: no student value moves a threshold below its floor). build_model honours
the reported rate.
Expected: q1.reported.hyperparameters and q1.reported.retrain fail at once, naming the learning rate;
nothing trains at that point (tests/golden/malicious/q1_diverging_learning_rate/q1.json; the retrain
check is made visible by run.json). Points inside the space cannot lower the threshold below the
rubric's retrain_floor either (tests/questions/test_q1_judges.py).
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


BEST_HYPERPARAMETERS = {"conv_layers": 2, "filters_0": 64, "kernel_0": 3, "filters_1": 64, "kernel_1": 3,
                        "dense_layers": 2, "units_0": 128, "dropout_0": 0.0, "units_1": 64, "dropout_1": 0.0,
                        "learning_rate": 50.0}
BEST_VAL_ACCURACY = 0.999
