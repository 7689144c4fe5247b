"""A sample q7 submission (test data): Grad-CAM on the first convolution layer, whatever `layer_name`
says.

Expected: q7.heatmap.shape, correlation and top_overlap fail and name layer conv1, and q7.heatmap.layer_name
fails and names the ignored layer_name; the rest passes (tests/golden/gradcam_first_conv_layer/q7.json).
"""
import numpy as np
import tensorflow as tf
import keras
from keras import layers


def build_mnist_cnn():
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def grad_cam(model, image, layer_name, class_index=None):
    img_array = np.expand_dims(image, axis=0)
    last = model.layers[-1]
    conv_layer = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)][0]  # MISTAKE: not layer_name
    grad_model = keras.Model(model.inputs, [conv_layer.output, last.input])
    with tf.GradientTape() as tape:
        conv_outputs, features = grad_model(img_array)
        logits = tf.matmul(features, last.kernel) + last.bias  # the score before the softmax
        if class_index is None:
            class_index = tf.argmax(logits[0])
        class_channel = logits[:, class_index]
    grads = tape.gradient(class_channel, conv_outputs)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = conv_outputs[0] @ pooled_grads[..., tf.newaxis]
    heatmap = tf.squeeze(heatmap)
    heatmap = tf.maximum(heatmap, 0)
    return (heatmap / tf.math.reduce_max(heatmap)).numpy()
