import keras
import keras_tuner as kt
from keras import layers


def conv_block(hp, index):
    block = keras.Sequential(name=f"block{index}")
    block.add(layers.Conv2D(hp.Int(f"filters_{index}", 32, 256, 32), hp.Choice(f"kernel_{index}", [3, 5]),
                            padding="same", activation="relu"))
    block.add(layers.MaxPooling2D(2, padding="same"))
    return block


def dense_block(hp, index):
    return [layers.Dense(hp.Int(f"units_{index}", 32, 256, 32), activation="relu"),
            layers.Dropout(hp.Float(f"dropout_{index}", 0, 0.5, 0.1))]


def build_model(hp):
    model = keras.Sequential()
    model.add(keras.Input((28, 28, 1)))
    convs = hp.Int("conv_layers", 2, 5)
    i = 0
    while i < convs:
        model.add(conv_block(hp, i))
        i += 1
    model.add(layers.Flatten())
    denses = hp.Int("dense_layers", 2, 5)
    for i in range(denses):
        for layer in dense_block(hp, i):
            model.add(layer)
    model.add(layers.Dense(10, activation="softmax"))
    opt = keras.optimizers.Nadam(learning_rate=hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3]))
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=27, factor=3, seed=42,
                        directory=directory, project_name=project_name)
