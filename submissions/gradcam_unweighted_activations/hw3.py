"""A sample q7 submission (test data): a Grad-CAM that averages the feature maps without gradient
weights.

Expected: q7.heatmap.randomisation, correlation and top_overlap fail and name the unweighted
activations; the rest passes: a class-blind method is not class_sensitivity's business (which
compares a map of another class with what the method itself gives)
(tests/golden/gradcam_unweighted_activations/q7.json).
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
    feature_model = keras.Model(model.inputs, model.get_layer(layer_name).output)
    conv_outputs = feature_model(img_array)
    heatmap = tf.reduce_mean(conv_outputs[0], axis=-1)  # MISTAKE: no gradients, no class
    heatmap = tf.maximum(heatmap, 0)
    return (heatmap / tf.math.reduce_max(heatmap)).numpy()
