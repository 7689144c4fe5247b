import numpy as np
import tensorflow as tf
from tensorflow import keras


def build_mnist_cnn():
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for i, (filters, padding) in enumerate([(32, "valid"), (64, "same"), (64, "same")]):
        x = keras.layers.Conv2D(filters, 3, padding=padding, activation="relu", name=f"conv{i + 1}")(x)
        x = keras.layers.MaxPool2D(name=f"pool{i + 1}")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def grad_cam(model, image, layer_name, class_index=None):
    last = model.layers[-1]
    conv_layer = model.get_layer(layer_name)
    probe = keras.Model(model.inputs, [conv_layer.output, last.input])
    batch = tf.convert_to_tensor(np.asarray(image, np.float32)[None])
    with tf.GradientTape() as tape:
        maps, penultimate = probe(batch)
        logits = tf.matmul(penultimate, last.kernel) + last.bias
        if class_index is None:
            class_index = int(tf.argmax(logits[0]))
        target = logits[0, class_index]
    grads = tape.gradient(target, maps)[0]
    alpha = tf.reduce_mean(grads, axis=(0, 1))
    cam = tf.nn.relu(tf.tensordot(maps[0], alpha, axes=1)).numpy()
    if cam.max() > 0:
        cam = cam / cam.max()
    return cam
