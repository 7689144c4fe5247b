"""HW3 Q1 - the tuned CNN."""
from keras import Sequential, layers, optimizers
from keras_tuner import Hyperband

CONV_CHOICES = [3, 5]
RATES = [0.0001, 0.0005, 0.001]


def build_model(hp):
    stack = [layers.Input((28, 28, 1))]
    depth = hp.Choice("conv_layers", [2, 3, 4, 5])
    for i in range(depth):
        stack.append(layers.Conv2D(hp.Choice(f"filters_{i}", list(range(32, 257, 32))),
                                   hp.Choice(f"kernel_{i}", CONV_CHOICES), padding="same"))
        stack.append(layers.BatchNormalization())
        stack.append(layers.Activation("relu"))
        if i < 4:
            stack.append(layers.MaxPooling2D())
    stack.append(layers.Flatten())
    for j in range(hp.Choice("dense_layers", [2, 3, 4, 5])):
        stack += [layers.Dense(hp.Choice(f"units_{j}", list(range(32, 257, 32))), activation="relu"),
                  layers.Dropout(hp.Choice(f"dropout_{j}", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]))]
    stack.append(layers.Dense(10, activation="softmax"))
    net = Sequential(stack)
    net.compile(optimizers.RMSprop(hp.Choice("learning_rate", RATES)), "sparse_categorical_crossentropy",
                metrics=["accuracy"])
    return net


def make_tuner(hypermodel, directory, project_name):
    return Hyperband(hypermodel, "val_accuracy", 12, directory=directory, project_name=project_name,
                     overwrite=False, hyperband_iterations=1)
