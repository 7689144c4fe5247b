"""A q1 sample: plain SGD at the tuned learning rate (test data for the grader). The optimizer is not
prescribed, so the space and corner checks pass; but the tuned rates (1e-4 to 1e-3) are Adam's scale,
and SGD at them barely learns in the grader's budget (0.08-0.17 over 10 seeds, where Adam, RMSprop
and Nadam reach 0.83-0.91).

Expected: only q1.train.budget fails, naming SGD as the likely cause; with --hidden,
q1.reported.retrain fails too on most seeds (SGD reaches 0.13-0.27 at the reported point, where the
least accepted is 0.25: rubric.toml [q1], retrain_margin) (tests/golden/q1_sgd_optimizer/q1.json).
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
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),  # MISTAKE: too slow at these rates
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=9, factor=3,
                        directory=directory, project_name=project_name, overwrite=True)


BEST_HYPERPARAMETERS = {
    "conv_layers": 3, "filters_0": 224, "kernel_0": 3, "filters_1": 96, "kernel_1": 5,
    "dense_layers": 5, "units_0": 64, "dropout_0": 0.1, "units_1": 160, "dropout_1": 0.0,
    "learning_rate": 0.0005, "filters_2": 192, "kernel_2": 3, "units_2": 224, "dropout_2": 0.0,
    "units_3": 128, "dropout_3": 0.0, "units_4": 64, "dropout_4": 0.0,
    "filters_3": 128, "kernel_3": 5, "filters_4": 160, "kernel_4": 5,
}
BEST_VAL_ACCURACY = 0.955
