import keras
import keras_tuner


def _features(hp, x):
    n_conv = hp.Int("conv_layers", min_value=2, max_value=5)
    for layer in range(n_conv):
        x = keras.layers.Conv2D(
            filters=hp.Int("filters_" + str(layer), min_value=32, max_value=256, step=32),
            kernel_size=hp.Choice("kernel_" + str(layer), values=[3, 5]),
            activation="relu",
            padding="same",
        )(x)
        if x.shape[1] > 1:
            x = keras.layers.MaxPooling2D(pool_size=2, padding="same")(x)
    return keras.layers.GlobalAveragePooling2D()(x)


def build_model(hp):
    inputs = keras.Input(shape=(28, 28, 1))
    x = _features(hp, inputs)
    for layer in range(hp.Int("dense_layers", min_value=2, max_value=5)):
        x = keras.layers.Dense(hp.Int("units_" + str(layer), min_value=32, max_value=256, step=32),
                               activation="relu")(x)
        x = keras.layers.Dropout(rate=hp.Float("dropout_" + str(layer), min_value=0.0, max_value=0.5,
                                               step=0.1))(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    lr = hp.Choice("learning_rate", values=[1e-4, 5e-4, 1e-3])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def make_tuner(hypermodel, directory, project_name):
    tuner = keras_tuner.Hyperband(
        hypermodel=hypermodel,
        objective=keras_tuner.Objective("val_accuracy", direction="max"),
        max_epochs=10,
        factor=3,
        directory=directory,
        project_name=project_name,
    )
    return tuner
