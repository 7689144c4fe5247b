import numpy as np
import tensorflow as tf
import keras


def build_mnist_cnn():
    cnn = keras.Sequential(name="digits")
    cnn.add(keras.Input(shape=(28, 28, 1)))
    cnn.add(keras.layers.Conv2D(32, kernel_size=3, activation="relu"))
    cnn.add(keras.layers.MaxPooling2D(pool_size=2))
    cnn.add(keras.layers.Conv2D(64, kernel_size=3, padding="same", activation="relu"))
    cnn.add(keras.layers.MaxPooling2D(pool_size=2))
    cnn.add(keras.layers.Conv2D(64, kernel_size=3, padding="same", activation="relu"))
    cnn.add(keras.layers.MaxPooling2D(pool_size=2))
    cnn.add(keras.layers.Flatten())
    cnn.add(keras.layers.Dense(128, activation="relu"))
    cnn.add(keras.layers.Dense(10, activation="softmax"))
    cnn.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(),
                metrics=["accuracy"])
    return cnn


def grad_cam(model, image, layer_name, class_index=None):
    feature_model = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.layers[-1].input])
    image = tf.cast(tf.reshape(image, (1, 28, 28, 1)), tf.float32)
    with tf.GradientTape() as tape:
        activations, hidden = feature_model(image, training=False)
        dense = model.layers[-1]
        scores = tf.linalg.matmul(hidden, dense.kernel) + dense.bias
        index = tf.argmax(scores[0]) if class_index is None else class_index
        chosen = tf.gather(scores, index, axis=1)
    gradient = tape.gradient(chosen, activations)
    channel_weights = tf.reduce_mean(gradient, axis=[0, 1, 2])
    heatmap = tf.einsum("hwc,c->hw", activations[0], channel_weights)
    heatmap = tf.maximum(heatmap, 0.0)
    peak = tf.reduce_max(heatmap)
    heatmap = tf.where(peak > 0, heatmap / peak, heatmap)
    return heatmap.numpy()
