"""Student-style HW3 notebooks, in the styles students really submit, as test fixtures.

Each notebook is a list of cells: a str is a code cell, `Markdown(...)` a markdown cell (it counts
in the cell numbers a student sees). `write(path, cells)` saves one as an .ipynb file.
"""

from __future__ import annotations

from pathlib import Path

import nbformat


class Markdown(str):
    """A markdown cell."""


def write(path: Path, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    for cell in cells:
        make = nbformat.v4.new_markdown_cell if isinstance(cell, Markdown) else nbformat.v4.new_code_cell
        notebook.cells.append(make(str(cell)))
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    return path


Q4_FUNCTIONS = '''\
def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)

def dense_params(in_features, units):
    return in_features * units + units

def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units

def lstm_params(input_dim, units):
    return 4 * simple_rnn_params(input_dim, units)

def gru_params(input_dim, units, reset_after=True):
    return 3 * simple_rnn_params(input_dim, units) + (3 * units if reset_after else 0)'''

Q5_FUNCTIONS = '''\
import math

def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    k = dilation * (kernel - 1) + 1
    if padding.lower() == "same":
        return math.ceil(size / stride)
    return max((size - k) // stride + 1, 0)

def pool_output_size(size, pool, stride=None, padding="valid"):
    return conv_output_size(size, pool, stride or pool, padding)

def same_padding(size, kernel, stride=1, dilation=1):
    k = dilation * (kernel - 1) + 1
    total = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
    return total // 2, total - total // 2'''

LAYER_TABLE_LITERAL = '''\
LAYER_TABLE = [((256, 256, 64), 1792), ((124, 124, 32), 51232), ((62, 62, 32), 0), ((62, 62, 128), 36992),
               ((23, 23, 64), 204864), ((11, 11, 64), 0), ((11, 11, 256), 147712), (None, 819328), (None, 0)]'''

BUILD_MODEL = '''\
def build_model(hp):
    model = keras.Sequential([keras.Input((28, 28, 1))])
    for i in range(hp.Int("conv_layers", 2, 5)):
        model.add(layers.Conv2D(hp.Int(f"filters_{i}", 32, 256, step=32), hp.Choice(f"kernel_{i}", [3, 5]),
                                padding="same", activation="relu"))
    model.add(layers.Flatten())
    for i in range(hp.Int("dense_layers", 2, 5)):
        model.add(layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
        model.add(layers.Dropout(hp.Float(f"dropout_{i}", 0.0, 0.5, step=0.1)))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(keras.optimizers.Adam(hp.Choice("learning_rate", [1e-4, 5e-4, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model'''

# 1. Colab: drive mount, pip installs, OpenCV for the heatmap, data loaded from Drive.
COLAB = [
    Markdown("# HW3\nRun on Colab with a GPU."),
    "from google.colab import drive\ndrive.mount('/content/drive')",
    "!pip install -q keras-tuner opencv-python\n%load_ext tensorboard",
    ("import numpy as np\nimport cv2\nimport keras\nfrom keras import layers\nimport keras_tuner as kt\n"
     "import matplotlib.pyplot as plt"),
    "DATA = '/content/drive/MyDrive/hw3'\n(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()",
    Markdown("## Q1"),
    BUILD_MODEL,
    ("def make_tuner(hypermodel, directory, project_name):\n"
     "    return kt.Hyperband(hypermodel, objective='val_accuracy', max_epochs=20, directory=directory,\n"
     "                        project_name=project_name)"),
    "tuner = make_tuner(build_model, DATA, 'q1')\ntuner.search(x_train, y_train, epochs=20, validation_split=0.2)",
    Markdown("## Q7"),
    ("def grad_cam(model, image, layer_name, class_index=None):\n"
     "    heatmap = np.ones((3, 3))\n"
     "    heatmap = cv2.resize(heatmap, (28, 28))\n"
     "    return heatmap / heatmap.max()"),
    "plt.imshow(grad_cam(model, x_test[0], 'conv2d_1'))\nplt.show()",
]

# 2. Experiment cells: the search runs in the notebook and the reported results are read from it.
EXPERIMENTS = [
    "import keras\nfrom keras import layers\nimport keras_tuner as kt",
    BUILD_MODEL,
    ("def make_tuner(hypermodel, directory, project_name):\n"
     "    return kt.Hyperband(hypermodel, objective='val_accuracy', max_epochs=10,\n"
     "                        directory=directory, project_name=project_name)"),
    ("tuner = make_tuner(build_model, 'runs', 'hw3')\n"
     "tuner.search(x_train, y_train, validation_split=0.1, epochs=10)\n"
     "best_hps = tuner.get_best_hyperparameters(1)[0]"),
    ("BEST_HYPERPARAMETERS = best_hps.values\n"
     "BEST_VAL_ACCURACY = 0.0\n"
     "BEST_VAL_ACCURACY = tuner.oracle.get_best_trials(1)[0].score\n"
     "print(BEST_HYPERPARAMETERS, BEST_VAL_ACCURACY)"),
]

# 3. A HyperModel class, with build_model taken from an instance.
HYPERMODEL = [
    "import keras\nfrom keras import layers\nimport keras_tuner as kt",
    ("class MNISTHyperModel(kt.HyperModel):\n"
     "    def __init__(self, num_classes=10):\n"
     "        super().__init__()\n"
     "        self.num_classes = num_classes\n\n"
     "    def build(self, hp):\n"
     "        model = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),\n"
     "                                  layers.Dense(self.num_classes, activation='softmax')])\n"
     "        model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
     "        return model"),
    "hypermodel = MNISTHyperModel(num_classes=10)\nbuild_model = MNISTHyperModel(num_classes=10).build",
    ("def make_tuner(hypermodel, directory, project_name):\n"
     "    return kt.Hyperband(hypermodel, objective='val_accuracy', max_epochs=10, directory=directory,\n"
     "                        project_name=project_name)"),
]

# 4. Helper dataclasses, a NamedTuple and an Enum, used by the q5 functions.
DATACLASSES = [
    ("from __future__ import annotations\nimport math\nfrom dataclasses import dataclass, field\n"
     "from enum import Enum, auto\nfrom typing import NamedTuple"),
    "class Padding(Enum):\n    VALID = auto()\n    SAME = auto()",
    ("@dataclass(frozen=True)\nclass Conv:\n    kernel: int\n    stride: int = 1\n    dilation: int = 1\n"
     "    notes: list[str] = field(default_factory=list)\n\n"
     "    @property\n    def span(self) -> int:\n        return self.dilation * (self.kernel - 1) + 1"),
    "class Row(NamedTuple):\n    shape: tuple | None\n    params: int",
    ("def conv_output_size(size: int, kernel: int, stride: int = 1, padding: str = 'valid',\n"
     "                     dilation: int = 1) -> int:\n"
     "    conv = Conv(kernel, stride, dilation)\n"
     "    if Padding[padding.upper()] is Padding.SAME:\n"
     "        return math.ceil(size / stride)\n"
     "    return max((size - conv.span) // stride + 1, 0)"),
    LAYER_TABLE_LITERAL,
]

# 5. Decorators: a timing wrapper, caches, tf.function, and a registry that runs code at definition.
DECORATORS = [
    "import time\nimport functools\nimport numpy as np\nimport tensorflow as tf",
    ("def timed(func):\n"
     "    @functools.wraps(func)\n"
     "    def wrapper(*args, **kwargs):\n"
     "        start = time.perf_counter()\n"
     "        result = func(*args, **kwargs)\n"
     "        print(f'{func.__name__}: {time.perf_counter() - start:.3f}s')\n"
     "        return result\n"
     "    return wrapper"),
    "SOLVED = []\n\ndef solved(func):\n    SOLVED.append(func.__name__)\n    return func",
    ("@timed\ndef conv2d_params(kernel_size, in_channels, filters, use_bias=True):\n"
     "    return kernel_size * kernel_size * in_channels * filters + filters * use_bias"),
    "@functools.lru_cache(maxsize=None)\ndef dense_params(in_features, units):\n    return in_features * units + units",
    "@solved\ndef lstm_params(input_dim, units):\n    return 4 * (units * (input_dim + units) + units)",
    "@tf.function(reduce_retracing=True)\ndef _moments(x):\n    return tf.nn.moments(x, axes=[0])",
]

# 6. Keras custom layers, models and callbacks: registered, with properties, Keras objects as class
#    attributes and defaults; one callback loads a model in its class body.
CUSTOM_LAYERS = [
    "import keras\nimport numpy as np\nfrom keras import layers",
    ("@keras.saving.register_keras_serializable(package='hw3')\n"
     "class Standardize(layers.Layer):\n"
     "    def __init__(self, epsilon=1e-3, **kwargs):\n"
     "        super().__init__(**kwargs)\n"
     "        self._epsilon = epsilon\n\n"
     "    @property\n    def epsilon(self):\n        return self._epsilon\n\n"
     "    @epsilon.setter\n    def epsilon(self, value):\n        self._epsilon = value\n\n"
     "    def call(self, x):\n"
     "        return (x - keras.ops.mean(x, 0)) / keras.ops.sqrt(keras.ops.var(x, 0) + self.epsilon)\n\n"
     "    def get_config(self):\n        return {**super().get_config(), 'epsilon': self.epsilon}"),
    ("class TrackedRegressor(keras.Model):\n"
     "    loss_tracker = keras.metrics.Mean(name='loss')\n\n"
     "    def train_step(self, data):\n        return super().train_step(data)"),
    ("class WarmStart(keras.callbacks.Callback):\n"
     "    pretrained = keras.models.load_model('/content/drive/MyDrive/best.keras')\n\n"
     "    def on_train_begin(self, logs=None):\n        self.model.set_weights(self.pretrained.get_weights())"),
    ("def build_regressor(input_shape, optimizer=keras.optimizers.Adam(1e-3)):\n"
     "    inputs = keras.Input(input_shape)\n"
     "    outputs = layers.Dense(1)(layers.Dense(64, activation='relu')(Standardize()(inputs)))\n"
     "    model = TrackedRegressor(inputs, outputs)\n"
     "    model.compile(optimizer=optimizer, loss='mse')\n"
     "    return model"),
]

# 7. Answers filled by loops: the layer table, the BatchNorm counts, and free-text answers.
LOOPS = [
    Markdown("# HW3 answers"),
    Q4_FUNCTIONS,
    Q5_FUNCTIONS,
    ("NETWORK = [('conv', 64, 3, 1, 1, 'same'), ('conv', 32, 5, 2, 2, 'valid'), ('pool', 2)]\n"
     "LAYER_TABLE = []\n"
     "size, channels = 256, 3\n"
     "for layer in NETWORK:\n"
     "    if layer[0] == 'conv':\n"
     "        _, filters, k, s, d, pad = layer\n"
     "        size = conv_output_size(size, k, s, pad, d)\n"
     "        LAYER_TABLE.append(((size, size, filters), conv2d_params(k, channels, filters)))\n"
     "        channels = filters\n"
     "    else:\n"
     "        size = pool_output_size(size, layer[1])\n"
     "        LAYER_TABLE.append(((size, size, channels), 0))"),
    ("FC_BN_PARAMS = {'bn_trainable': 2 * 128, 'bn_non_trainable': 2 * 128}\n"
     "FC_BN_PARAMS['fc'] = dense_params(256, 128)\n"
     "Q6A_ANSWER = 3"),
    "ANSWERS = {'q4a': 'RNN weights are shared across time steps.'}\nANSWERS['q6c'] = 'BN uses batch statistics.'",
]

# 8. Definitions that would run an experiment when the notebook defines them (the case).
DEFAULTS_RUN_SEARCH = [
    "import time\nimport numpy as np",
    "def run_search():\n    time.sleep(3600)  # stands in for tuner.search(...)\n    return {'units': 128}",
    "def summarize(best=run_search()):\n    return best",
    Q4_FUNCTIONS,
    "class Experiment:\n    results = []\n    for seed in range(3):\n        results.append(run_search())",
    "def plot(history=np.load('history.npy')):\n    return history",
]

# 9. tf.keras 2 habits under Keras 3: a removed module, a star import, positional compile.
TF_KERAS2 = [
    ("import tensorflow as tf\nfrom tensorflow import keras\nfrom tensorflow.keras.layers import *\n"
     "from tensorflow.keras.layers.experimental import preprocessing"),
    "class Scale(Layer):\n    def call(self, x):\n        return x / 255.0",
    ("def build_mnist_cnn():\n"
     "    model = keras.Sequential([keras.Input((28, 28, 1)), preprocessing.Rescaling(1 / 255),\n"
     "                              Conv2D(32, 3, activation='relu'), Flatten(), Dense(10, activation='softmax')])\n"
     "    model.compile('adam', 'sparse_categorical_crossentropy', ['accuracy'])\n"
     "    return model"),
]

# 10. A script pasted into a notebook: a main guard, argparse, file writes, %%time training.
SCRIPT_STYLE = [
    "%matplotlib inline\nimport argparse\nimport json\nimport numpy as np",
    ("def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):\n"
     "    axes = tuple(range(x.ndim - 1))\n"
     "    if training:\n"
     "        mean, var = x.mean(axis=axes), x.var(axis=axes)\n"
     "        moving_mean = momentum * moving_mean + (1 - momentum) * mean\n"
     "        moving_var = momentum * moving_var + (1 - momentum) * var\n"
     "    else:\n"
     "        mean, var = moving_mean, moving_var\n"
     "    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, moving_mean, moving_var"),
    ("%%time\nresults = {}\nfor n in (1, 8, 64):\n"
     "    results[n] = batchnorm_forward(np.ones((n, 4)), 1, 0, 0, 1, training=True)"),
    "with open('results.json', 'w') as f:\n    json.dump({}, f)",
    ("def main():\n    parser = argparse.ArgumentParser()\n    parser.add_argument('--epochs', type=int)\n"
     "    return parser.parse_args()\n\nif __name__ == '__main__':\n    main()"),
]

# 11. Type annotations: evaluated at definition time, unless `from __future__ import annotations`.
ANNOTATIONS = [
    "import numpy as np\nfrom typing import Optional",
    ("def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:\n"
     "    k = dilation * (kernel - 1) + 1\n"
     "    total = max((-(-size // stride) - 1) * stride + k - size, 0)\n"
     "    return total // 2, total - total // 2"),
    ("def pool_output_size(size: int, pool: int, stride: Optional[int] = None,\n"
     "                     padding: str = 'valid') -> np.dtype('int64'):\n"
     "    stride = stride or pool\n"
     "    return -(-size // stride) if padding == 'same' else (size - pool) // stride + 1"),
    "Q6A_ANSWER: int = 2",
]

# 12. A table built by the notebook's own function, called at the top level.
FILLED_BY_FUNCTION = [
    Q5_FUNCTIONS,
    ("LAYER_TABLE = []\n\n"
     "def add_row(shape, params):\n"
     "    LAYER_TABLE.append((shape, params))\n\n"
     "def fill_table():\n"
     "    add_row((256, 256, 64), 1792)\n"
     "    add_row((124, 124, 32), 51232)"),
    "fill_table()\nprint(len(LAYER_TABLE))",
]

# 13. A registry base class: every subclass runs the base's __init_subclass__ when it is defined.
SUBCLASS_HOOKS = [
    "import time\nimport abc",
    ("class Question(abc.ABC):\n"
     "    done = []\n\n"
     "    def __init_subclass__(cls, **kwargs):\n"
     "        super().__init_subclass__(**kwargs)\n"
     "        time.sleep(3600)\n"
     "        Question.done.append(cls.__name__)\n\n"
     "    @abc.abstractmethod\n"
     "    def answer(self):\n"
     "        ..."),
    "class Q6(Question):\n    def answer(self):\n        return 2",
    "class Plain(metaclass=abc.ABCMeta):\n    pass",
    ("def gru_params(input_dim, units, reset_after=True):\n"
     "    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)"),
]

NOTEBOOKS = {
    "colab": COLAB, "experiments": EXPERIMENTS, "hypermodel": HYPERMODEL, "dataclasses": DATACLASSES,
    "decorators": DECORATORS, "custom_layers": CUSTOM_LAYERS, "loops": LOOPS,
    "defaults_run_search": DEFAULTS_RUN_SEARCH, "tf_keras2": TF_KERAS2, "script_style": SCRIPT_STYLE,
    "annotations": ANNOTATIONS, "filled_by_function": FILLED_BY_FUNCTION, "subclass_hooks": SUBCLASS_HOOKS,
}
