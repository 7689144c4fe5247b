"""The starter notebook students fill in (`hw3grade template hw3_starter.ipynb`).

A section per question: its text in markdown and code stubs with the contract's signatures and
docstrings (../shared/DESIGN.md). Every stub raises NotImplementedError and every constant is
an empty literal, so the notebook loads as it is and scores 0 with a clear message per check.
The texts state the contract, never a formula or an answer.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

CONTRACT = {  # the names each question's stubs define (optional q1 globals are left commented out)
    "q1": ("build_model", "make_tuner"),
    "q3": ("preprocess", "build_regressor"),
    "q4": ("conv2d_params", "dense_params", "simple_rnn_params", "lstm_params", "gru_params"),
    "q5": ("conv_output_size", "pool_output_size", "same_padding", "LAYER_TABLE"),
    "q6": ("batchnorm_forward", "FC_BN_PARAMS", "Q6A_ANSWER"),
    "q7": ("build_mnist_cnn", "grad_cam"),
}
Q1_SEARCH_SPACE = (  # name, type, values
    ("conv_layers", "Int", "2 to 5"),
    ("filters_{i}", "Int", "32 to 256, one per conv layer i = 0, 1, …"),
    ("kernel_{i}", "Choice", "3 or 5, one per conv layer"),
    ("dense_layers", "Int", "2 to 5"),
    ("units_{i}", "Int", "32 to 256, one per dense layer i = 0, 1, …"),
    ("dropout_{i}", "Float", "0.0 to 0.5, step 0.1, one per dense layer"),
    ("learning_rate", "Choice", "1e-4, 5e-4 or 1e-3"),
)
Q5_INPUT_SHAPE = (256, 256, 3)
Q5_NETWORK = (  # label (as the grader's messages name the layer), kind, filters, kernel, stride, dilation, padding
    ("Conv(64, 3x3, s1, same)", "conv", 64, 3, 1, 1, "same"),
    ("DilatedConv(32, 5x5, s2, d2, valid)", "conv", 32, 5, 2, 2, "valid"),
    ("MaxPool(2, s2)", "pool", None, 2, 2, 1, "valid"),
    ("Conv(128, 3x3, s1, same)", "conv", 128, 3, 1, 1, "same"),
    ("DilatedConv(64, 5x5, s2, d4, valid)", "conv", 64, 5, 2, 4, "valid"),
    ("MaxPool(2, s2)", "pool", None, 2, 2, 1, "valid"),
    ("Conv(256, 3x3, s1, same)", "conv", 256, 3, 1, 1, "same"),
    ("DilatedConv(128, 5x5, s2, d8, valid)", "conv", 128, 5, 2, 8, "valid"),
    ("MaxPool(2, s2)", "pool", None, 2, 2, 1, "valid"),
)
Q6_STATEMENTS = (  # Q6A_ANSWER is the number of the true one
    "It shortens each training step.",
    "It normalises each layer's output distribution so that it is more uniform across dimensions.",
    "It drives the effect of weight initialisation to zero.",
)
FREE_TEXT_ANSWERS = ("q1a", "q4a", "q6c")


def build_template(*, path: str | Path) -> Path:
    """Write the starter notebook to `path` (folders are created).

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(starter_notebook(self_check_name=path.name), path)
    return path


def starter_notebook(*, self_check_name: str = "hw3_starter.ipynb") -> nbformat.NotebookNode:
    """The starter notebook; its last cell tells how to self-check a file named `self_check_name`."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [md(INTRO.strip()), code(IMPORTS.strip())]
    for text, stubs in ((Q1_TEXT.format(space=_q1_table()), Q1_STUBS), (Q3_TEXT, Q3_STUBS), (Q4_TEXT, Q4_STUBS),
                        (Q5_TEXT.format(network=_q5_table(), shape=Q5_INPUT_SHAPE), _q5_stubs()),
                        (Q6_TEXT.format(statements=_numbered(Q6_STATEMENTS)), Q6_STUBS), (Q7_TEXT, Q7_STUBS)):
        cells += [md(text.strip()), code(stubs.strip())]
    cells += [md(ANSWERS_TEXT.strip()), code(_answers_stub()), md(SELF_CHECK.format(name=self_check_name).strip())]
    for number, cell in enumerate(cells, start=1):
        cell.id = f"hw3-{number:02d}"  # stable ids: the same notebook on every build
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                              "language_info": {"name": "python"}})
    return notebook


def _q1_table() -> str:
    rows = "\n".join(f"| `{name}` | {kind} | {values} |" for name, kind, values in Q1_SEARCH_SPACE)
    return "| name | type | values |\n|---|---|---|\n" + rows


def _q5_table() -> str:
    def cell(value):
        return "–" if value is None else str(value)

    rows = "\n".join(f"| {n} | {label} | {cell(filters)} | {kernel}×{kernel} | {stride} | {dilation} | {padding} |"
                     for n, (label, _, filters, kernel, stride, dilation, padding) in enumerate(Q5_NETWORK, start=1))
    return "| # | layer | filters | kernel | stride | dilation | padding |\n|---|---|---|---|---|---|---|\n" + rows


def _q5_stubs() -> str:
    rows = "\n".join(f"    # row {n}: {layer[0]}" for n, layer in enumerate(Q5_NETWORK, start=1))
    return Q5_STUBS.strip() + f"\n\n\n# One (output_shape or None, params) pair per layer, in order; no row for the input.\nLAYER_TABLE = [\n{rows}\n]"


def _numbered(statements) -> str:
    return "\n".join(f"{n}. {text}" for n, text in enumerate(statements, start=1))


def _answers_stub() -> str:
    return "ANSWERS = {\n" + "".join(f'    "{key}": "",\n' for key in FREE_TEXT_ANSWERS) + "}"


def _stub(name: str) -> str:
    return f'raise NotImplementedError("{name} is not implemented yet: replace this line with your code")'


INTRO = """
# HW3 starter notebook

Fill in every function that raises `NotImplementedError` and every constant left as `None` or empty.
Keep the names and the signatures: the autograder calls them directly.

**How the autograder reads this notebook.** It keeps imports, `def`, `class` and assignments of
literal values (numbers, strings, lists, tuples, dicts). It does **not** run any other top-level
statement (a training run, `tuner.search(...)`, `print(...)`, `%magic`): those are listed as skipped
in your report. So write constants such as `LAYER_TABLE` out as literals, and do not let a function
depend on a global that only a skipped statement sets. Add as many cells for your experiments as you like.

Your code runs under **Keras 3 on TensorFlow 2.21**. Code written for `tf.keras` 2 may need small
changes (for example, a `Sequential` model has no `.output` until it has been called).
"""
IMPORTS = """
import numpy as np
import keras
import keras_tuner as kt
import tensorflow as tf
"""
Q1_TEXT = """
## Q1 · A KerasTuner-tuned CNN on MNIST

Write a hypermodel for MNIST digits (images of shape `(28, 28, 1)` with pixels in `[0, 1]`, 10 classes,
integer labels) and the tuner that searches it.

- `build_model(hp)` returns a compiled `keras.Model` (with `metrics=["accuracy"]`) for any point `hp` of the
  search space below. Every point must give a valid model, 5 convolution layers with 5×5 kernels included.
- `make_tuner(hypermodel, directory, project_name)` returns a `keras_tuner.Hyperband` tuner whose objective
  is `val_accuracy`, keeping its trials under `directory/project_name`.

The search space (use exactly these names):

{space}

Run your search in a cell of its own: the autograder never reruns it. Then copy the best hyperparameters
and the best validation accuracy it found into `BEST_HYPERPARAMETERS` (a dict) and `BEST_VAL_ACCURACY`
(a float), written as literals.

*How it is graded:* your search space (names, types, ranges) against the table; models built at the
corners of the space; a short training of your model on the grader's budget must reach an accuracy
threshold; a capped search with your tuner must complete; your reported best values must lie inside the space.
"""
Q1_STUBS = f'''
def build_model(hp):
    """Build and compile the CNN for one point of the search space.

    Args:
        hp: a keras_tuner.HyperParameters; define every hyperparameter on it with the names of the table.

    Returns:
        A compiled keras.Model from (28, 28, 1) images to 10 class probabilities.
    """
    {_stub("build_model")}


def make_tuner(hypermodel, directory, project_name):
    """The Hyperband tuner of the search.

    Args:
        hypermodel: the function that builds a model from hp (build_model).
        directory, project_name: where the tuner keeps its trials.

    Returns:
        A keras_tuner.Hyperband tuner with objective "val_accuracy".
    """
    {_stub("make_tuner")}


# After your search, uncomment these and write its results as literals:
# BEST_HYPERPARAMETERS = {{"conv_layers": ..., "filters_0": ..., ...}}
# BEST_VAL_ACCURACY = ...
'''
Q3_TEXT = """
## Q3 · Fix a broken Keras regressor

The regressor given in the assignment does not learn: its R² on held-out data is below 0.
Find what is wrong with it and write a corrected version as two functions.

- `preprocess(X_train, X_test)` returns `(Xtr, Xte)`, the features scaled by a scaler fitted on the
  training data only.
- `build_regressor(input_shape)` returns a compiled `keras.Model` for inputs of shape `input_shape`
  (a tuple without the batch axis) and one continuous output.

*How it is graded:* the grader trains your model with its own fixed budget on synthetic regression data
and compares its R² on held-out data with a threshold; a separate check looks for information leaking
from the test data into `preprocess`.
"""
Q3_STUBS = f'''
def preprocess(X_train, X_test):
    """Scale the features for training and testing.

    Args:
        X_train, X_test: 2-D arrays (samples, features).

    Returns:
        (Xtr, Xte): both scaled by a scaler fitted on X_train only.
    """
    {_stub("preprocess")}


def build_regressor(input_shape):
    """The corrected regressor.

    Args:
        input_shape: the shape of one input, without the batch axis, e.g. (8,).

    Returns:
        A compiled keras.Model with one continuous output.
    """
    {_stub("build_regressor")}
'''
Q4_TEXT = """
## Q4 · Parameter counts: CNN vs RNN

Write functions that return the number of parameters of a Keras layer, as the layer's `count_params()` gives it.
Return plain Python `int`s.

- `conv2d_params(kernel_size, in_channels, filters, use_bias=True)`: `keras.layers.Conv2D`; `kernel_size` is
  an int (a square kernel) or a pair `(kh, kw)`.
- `dense_params(in_features, units)`: `keras.layers.Dense` with its bias.
- `simple_rnn_params(input_dim, units)` and `lstm_params(input_dim, units)`: `keras.layers.SimpleRNN` and
  `keras.layers.LSTM` on sequences of `input_dim` features per time step.
- `gru_params(input_dim, units, reset_after=True)`: `keras.layers.GRU` (both values of `reset_after` are checked).

*How it is graded:* random configurations against Keras' own `count_params()`.
"""
Q4_STUBS = "\n\n\n".join(f'''
def {name}({signature}):
    """Parameters of keras.layers.{layer}{note}.

    Returns:
        The parameter count, an int.
    """
    {_stub(name)}'''.strip() for name, signature, layer, note in (
    ("conv2d_params", "kernel_size, in_channels, filters, use_bias=True", "Conv2D", " (kernel_size: int or (kh, kw))"),
    ("dense_params", "in_features, units", "Dense", ", with its bias"),
    ("simple_rnn_params", "input_dim, units", "SimpleRNN", " (input_dim features per time step)"),
    ("lstm_params", "input_dim, units", "LSTM", " (input_dim features per time step)"),
    ("gru_params", "input_dim, units, reset_after=True", "GRU", " (reset_after as in Keras)"),
))
Q5_TEXT = """
## Q5 · Convolution and pooling output shapes

Return plain Python `int`s; `padding` is `"valid"` or `"same"`.

- `conv_output_size(size, kernel, stride=1, padding="valid", dilation=1)`: the output size along one axis
  of a convolution, dilated or not.
- `pool_output_size(size, pool, stride=None, padding="valid")`: the output size of a pooling layer;
  `stride=None` means the pool size, as in Keras.
- `same_padding(size, kernel, stride=1, dilation=1)`: the `(before, after)` numbers of zero rows (or columns)
  that TensorFlow adds for `padding="same"`.

Then fill `LAYER_TABLE` for this network, whose input has shape `{shape}`. Conv layers are `keras.layers.Conv2D`
with a bias (DilatedConv sets `dilation_rate`); MaxPool is `keras.layers.MaxPooling2D`.

{network}

`LAYER_TABLE` has one `(output_shape, params)` pair per layer, in order, and no row for the input;
`output_shape` is a tuple `(H, W, C)`. A layer whose output would be empty is invalid: write `None` for its
shape and for every later shape; its parameters still count.

*How it is graded:* random cases against real layers (Keras, or TensorFlow ops where Keras refuses a
stride above 1 together with a dilation above 1), and the table cell by cell.
"""
Q5_STUBS = f'''
def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1):
    """Output size of a convolution along one axis.

    Args:
        size: input size along the axis.
        kernel: kernel size along the axis.
        stride: step between windows.
        padding: "valid" or "same".
        dilation: dilation rate.

    Returns:
        The output size, an int.
    """
    {_stub("conv_output_size")}


def pool_output_size(size, pool, stride=None, padding="valid"):
    """Output size of a pooling layer along one axis.

    Args:
        size: input size along the axis.
        pool: pooling window size.
        stride: step between windows; None means pool (Keras' default).
        padding: "valid" or "same".

    Returns:
        The output size, an int.
    """
    {_stub("pool_output_size")}


def same_padding(size, kernel, stride=1, dilation=1):
    """Zero padding that TensorFlow adds on one axis for padding="same".

    Args:
        size: input size along the axis.
        kernel: kernel size along the axis.
        stride: step between windows.
        dilation: dilation rate.

    Returns:
        (before, after): the numbers of zero rows or columns added before and after.
    """
    {_stub("same_padding")}
'''
Q6_TEXT = """
## Q6 · Batch normalisation

**Q6a.** Which statement about batch normalisation is true? Set `Q6A_ANSWER` to its number.

{statements}

**Parameters.** A `Dense(20)` layer on 10 input features is followed by `BatchNormalization()`. Fill
`FC_BN_PARAMS` with the number of parameters of the dense layer (`"fc"`) and the numbers of trainable
(`"bn_trainable"`) and non-trainable (`"bn_non_trainable"`) parameters of the BatchNormalization layer.

**Forward pass.** Write `batchnorm_forward` in NumPy so that it computes what `keras.layers.BatchNormalization`
computes (channels last) for a batch `x` of shape `(N, D)` or `(N, H, W, C)`. With `training=True` it
normalises with the batch's statistics and updates the moving ones; with `training=False` it normalises
with the moving statistics and returns them unchanged.

*How it is graded:* against `keras.layers.BatchNormalization` in both modes, including a batch of one,
a feature with zero variance and large values; a failed check names the known mistake your result is closest to.
"""
Q6_STUBS = f'''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    """BatchNormalization's forward pass.

    Args:
        x: a batch of shape (N, D) or (N, H, W, C).
        gamma, beta, moving_mean, moving_var: one value per feature (the last axis of x).
        training: use the batch's statistics and update the moving ones (True), or use the moving ones (False).
        momentum: as in keras.layers.BatchNormalization.
        epsilon: as in keras.layers.BatchNormalization.

    Returns:
        (y, new_moving_mean, new_moving_var).
    """
    {_stub("batchnorm_forward")}


FC_BN_PARAMS = {{"fc": None, "bn_trainable": None, "bn_non_trainable": None}}  # ints

Q6A_ANSWER = None  # the number (1, 2 or 3) of the true statement
'''
Q7_TEXT = """
## Q7 · Grad-CAM

- `build_mnist_cnn()` returns a compiled CNN for MNIST: `(28, 28, 1)` images with pixels in `[0, 1]` to
  10 class probabilities, integer labels, `metrics=["accuracy"]`.
- `grad_cam(model, image, layer_name, class_index=None)` returns the Grad-CAM heatmap of one image
  (shape `(28, 28, 1)`, no batch axis) for the class `class_index` (`None`: the predicted class), at the
  resolution of the output of the layer `layer_name`: a 2-D array with values in `[0, 1]`.

The grader calls `grad_cam` on its own trained CNN, a fresh Functional model each time: do not change it.
In Keras 3, build the model that returns the layer's output from `model.inputs` and `model.get_layer(...)`.

*How it is graded:* your CNN must train to an accuracy threshold on MNIST; heatmaps on fixed digits are
compared with the reference (correlation, overlap of the hottest 20 %), and must be non-negative,
normalised, sensitive to the class, and change when the model's weights are randomised.
"""
Q7_STUBS = f'''
def build_mnist_cnn():
    """The CNN for MNIST.

    Returns:
        A compiled keras.Model from (28, 28, 1) images to 10 class probabilities.
    """
    {_stub("build_mnist_cnn")}


def grad_cam(model, image, layer_name, class_index=None):
    """Grad-CAM heatmap of one image for one class.

    Args:
        model: a trained Functional keras.Model; do not modify it.
        image: one image of shape (28, 28, 1), pixels in [0, 1], without the batch axis.
        layer_name: the convolution layer to explain.
        class_index: the class to explain; None explains the predicted class.

    Returns:
        A 2-D array (the layer's height and width) with values in [0, 1].
    """
    {_stub("grad_cam")}
'''
ANSWERS_TEXT = """
## Written answers

Write your answers to the written questions here, under the question's id (`q1a`, `q4a`, `q6c`, …).
They are not graded automatically: the TA reads them in your report.
"""
SELF_CHECK = """
## Check your work before you submit

Save this notebook, then run the autograder on it from the folder that holds `graders/`:

```
pytest graders --submission {name}
```

(use your notebook's file name). It prints a score per question and a message for every failed check, and
writes an HTML report (to `reports/out/`, or where `--report PATH` says). Hidden checks run only in the TA's
grading, so your final score can differ.
"""
