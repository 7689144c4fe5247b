"""A sample q7 submission (test data): Grad-CAM of the softmax probability that also ignores
class_index (published code often does both).

Expected: q7.heatmap.logit and q7.heatmap.class_sensitivity fail, each naming its own mistake; the rest
passes (tests/golden/gradcam_softmax_ignores_class_index/q7.json).
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
    grad_model = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.output])
    with tf.GradientTape() as tape:
        conv_outputs, preds = grad_model(img_array)  # MISTAKE: softmax probabilities, not logits
        top = tf.argmax(preds[0])  # MISTAKE: class_index is never used
        class_channel = preds[:, top]
    grads = tape.gradient(class_channel, conv_outputs)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(conv_outputs[0] @ pooled_grads[..., tf.newaxis])
    heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)
    return heatmap.numpy()
