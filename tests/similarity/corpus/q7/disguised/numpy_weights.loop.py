"""Q7 -- CNN and Grad-CAM (heatmap computed in numpy)."""
import numpy as np
import tensorflow as tf
import keras
from keras.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D


def build_mnist_cnn():
    img = Input(shape=(28, 28, 1))
    h = Conv2D(32, (3, 3), activation="relu")(img)
    h = MaxPooling2D((2, 2))(h)
    h = Conv2D(64, (3, 3), activation="relu", padding="same")(h)
    h = MaxPooling2D((2, 2))(h)
    h = Conv2D(64, (3, 3), activation="relu", padding="same")(h)
    h = MaxPooling2D((2, 2))(h)
    h = Flatten()(h)
    h = Dense(128, activation="relu")(h)
    probs = Dense(10, activation="softmax")(h)
    net = keras.Model(img, probs)
    net.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return net


def grad_cam(model, image, layer_name, class_index=None):
    head = model.layers[-1]
    sub = keras.Model(inputs=model.input, outputs=[model.get_layer(layer_name).output, head.input])
    x = np.expand_dims(np.array(image, dtype="float32"), 0)
    with tf.GradientTape() as g:
        fmap, feats = sub(x)
        z = feats @ head.kernel + head.bias
        c = int(np.argmax(z[0])) if class_index is None else class_index
        score = z[:, c]
    dfmap = g.gradient(score, fmap).numpy()[0]
    fmap = fmap.numpy()[0]
    weights = dfmap.mean(axis=(0, 1))
    heat = sum(weights[k] * fmap[:, :, k] for k in range(fmap.shape[-1]))
    heat = np.maximum(heat, 0)
    top = heat.max()
    return heat / top if top > 0 else heat
