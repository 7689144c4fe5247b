"""A sample q7 submission (test data): the homework CNN written differently but equivalently:
Sequential on (28, 28) images with a Reshape layer, the pixel scaling inside the model
(Rescaling(1/255): it expects raw pixels), batch normalisation and dropout, logits out with a
from_logits=True loss, RMSprop at its defaults. Grad-CAM is correct.

Expected: full marks (tests/golden/q7_cnn_equivalent_variants/q7.json).
"""
import numpy as np
import tensorflow as tf
import keras
from keras import layers


def build_mnist_cnn():
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Reshape((28, 28, 1)),
        layers.Rescaling(1.0 / 255),
        layers.Conv2D(32, (3, 3)),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Dropout(0.25),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10),
    ])
    model.compile(optimizer="rmsprop", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def grad_cam(model, image, layer_name, class_index=None):
    img_array = np.expand_dims(image, axis=0)
    last = model.layers[-1]
    grad_model = keras.Model(model.inputs, [model.get_layer(layer_name).output, last.input])
    with tf.GradientTape() as tape:
        conv_outputs, features = grad_model(img_array)
        logits = tf.matmul(features, last.kernel) + last.bias  # the score before the softmax
        if class_index is None:
            class_index = int(tf.argmax(logits[0]))
        class_channel = logits[:, class_index]
    grads = tape.gradient(class_channel, conv_outputs)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = np.maximum(tf.reduce_sum(conv_outputs[0] * pooled_grads, axis=-1).numpy(), 0)
    return heatmap / heatmap.max()
