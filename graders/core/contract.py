"""The submission contract: which names answer each question (../shared/DESIGN.md), written once.

The starter notebook's stubs, the graders' missing-name messages and the similarity report's
per-question code all read it from here. A function's signature is not repeated: it is read
(by `ast`, without importing anything) from the reference module that answers the question.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "reference"


@dataclass(frozen=True)
class ContractName:
    """One name a submission defines: a function, or a constant written as a literal."""

    name: str
    question: str
    function: bool
    returns: str  # what it returns (a function) or holds (a constant), for messages and the starter
    optional: bool = False


def _function(question: str, name: str, returns: str) -> ContractName:
    return ContractName(name, question, True, returns)


def _constant(question: str, name: str, holds: str, *, optional: bool = False) -> ContractName:
    return ContractName(name, question, False, holds, optional)


# The reference module of each question: reference/<module>.py answers it.
REFERENCE_MODULES = {"q1": "q1_tuner", "q3": "q3_regressor", "q4": "q4_params", "q5": "q5_shapes",
                     "q6": "q6_batchnorm", "q7": "q7_gradcam"}

CONTRACT: dict[str, tuple[ContractName, ...]] = {
    "q1": (_function("q1", "build_model", "a compiled keras.Model"),
           _function("q1", "make_tuner", "a keras_tuner.Hyperband"),
           _constant("q1", "BEST_HYPERPARAMETERS", "a dict of the best hyperparameter values", optional=True),
           _constant("q1", "BEST_VAL_ACCURACY", "a float, the best validation accuracy", optional=True)),
    "q3": (_function("q3", "preprocess", "(Xtr, Xte), scaled by a scaler fitted on X_train only"),
           _function("q3", "build_regressor", "a compiled keras.Model")),
    "q4": tuple(_function("q4", name, "an int") for name in
                ("conv2d_params", "dense_params", "simple_rnn_params", "lstm_params", "gru_params")),
    "q5": (_function("q5", "conv_output_size", "an int"), _function("q5", "pool_output_size", "an int"),
           _function("q5", "same_padding", "(before, after)"),
           _constant("q5", "LAYER_TABLE", "a list of (output_shape or None, params) rows, one per layer")),
    "q6": (_function("q6", "batchnorm_forward", "(y, new_moving_mean, new_moving_var)"),
           _constant("q6", "FC_BN_PARAMS", 'a dict {"fc": int, "bn_trainable": int, "bn_non_trainable": int}'),
           _constant("q6", "Q6A_ANSWER", "an int, the number of the true statement")),
    "q7": (_function("q7", "build_mnist_cnn", "a compiled keras.Model"),
           _function("q7", "grad_cam", "a 2-D array in [0, 1]")),
}
ANSWERS = "ANSWERS"  # optional, every question: {question id: free text}, shown for manual grading
BY_NAME = {entry.name: entry for entries in CONTRACT.values() for entry in entries}


def reference_path(question: str) -> Path:
    """The reference module that answers `question`."""
    return REFERENCE_DIR / f"{REFERENCE_MODULES[question]}.py"


@functools.lru_cache(maxsize=None)
def reference_definitions(question: str) -> dict[str, ast.stmt]:
    """{name: top-level def or assignment} of the question's reference module, parsed, not imported."""
    tree = ast.parse(reference_path(question).read_text(encoding="utf-8"))
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            found.update({target.id: node for target in node.targets if isinstance(target, ast.Name)})
    return found


def signature(name: str) -> str:
    """`conv_output_size(size, kernel, stride=1, padding='valid', dilation=1)`, as the reference defines it.

    Raises:
        KeyError: when `name` is not a contract function.
    """
    entry = BY_NAME[name]
    if not entry.function:
        raise KeyError(f"{name} is a contract constant, not a function")
    node = reference_definitions(entry.question)[name]
    arguments = ast.unparse(_without_annotations(node.args))
    return f"{name}({arguments})"


def signature_text(name: str) -> str:
    """How a message states the contract of `name`; "" for a name outside the contract."""
    entry = BY_NAME.get(name)
    if entry is None:
        return ""
    if entry.function:
        return f"{signature(name)} -> {entry.returns}"
    return f"{name} = {entry.returns}, written as a literal"


def _without_annotations(arguments: ast.arguments) -> ast.arguments:
    copy = ast.parse(f"def f({ast.unparse(arguments)}): pass").body[0].args
    for argument in (*copy.posonlyargs, *copy.args, *copy.kwonlyargs, copy.vararg, copy.kwarg):
        if argument is not None:
            argument.annotation = None
    return copy
