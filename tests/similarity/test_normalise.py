"""The normalised token streams: what a disguise changes must not change them; what a rewrite changes must."""

from pathlib import Path

import pytest

from graders.similarity.extract import code_from_source
from graders.similarity.fingerprint import fingerprint, winnow
from graders.similarity.normalise import TooLarge, token_streams

BATCHNORM = '''
import numpy as np

def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    """Docstring."""
    axes = tuple(range(x.ndim - 1))  # every axis but the channels
    if training:
        mean = x.mean(axis=axes)
        var = ((x - mean) ** 2).mean(axis=axes)
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
    else:
        mean, var = moving_mean, moving_var
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, moving_mean, var
'''
DISGUISED = '''
import numpy


def batchnorm_forward(inp, g, b, mm, mv, *, training, momentum=0.99, epsilon=1e-3):
    # a new comment
    reduce_over: "tuple" = tuple(range(inp.ndim - 1))
    if training:
        mu = inp.mean(axis=reduce_over)
        sigma2 = ((inp - mu) ** 2).mean(axis=reduce_over)
        mm = momentum * mm + (1 - momentum) * mu
    else:
        mu, sigma2 = mm, mv
    return (g * (inp - mu) / numpy.sqrt(sigma2 + epsilon) + b,
            mm,
            sigma2)
'''


def streams(source, question="q6"):
    return [s.tokens for s in token_streams(code_from_source(source, question), max_tokens=10_000)]


def test_names_comments_docstrings_annotations_layout_and_aliases_do_not_change_the_stream():
    assert streams(BATCHNORM) == streams(DISGUISED)


def test_library_names_and_numbers_stay_and_identifiers_become_id():
    tokens = streams(BATCHNORM)[0]
    assert "numpy.sqrt" in tokens and ".mean" in tokens and "axis=" in tokens and "0.99" not in tokens
    assert "1" in tokens and "tuple" in tokens and "mean" not in tokens and "id" in tokens


def test_a_changed_operator_changes_the_stream():
    assert streams(BATCHNORM) != streams(BATCHNORM.replace("** 2", "** 3"))


@pytest.mark.parametrize("left, right", [
    ("def conv_output_size(size, kernel):\n    t = size\n    t += kernel\n    return t",
     "def conv_output_size(size, kernel):\n    t = size\n    t = t + kernel\n    return t"),
    ("def conv_output_size(size, kernel):\n    return 0 if size > kernel else 1",
     "def conv_output_size(size, kernel):\n    return 0 if kernel < size else 1"),
    ("def conv_output_size(size, kernel):\n    return [a * 2 for a in size if a]",
     "def conv_output_size(size, kernel):\n    return [b * 2 for b in size if b]"),
    ("import tensorflow as tf\ndef build_mnist_cnn():\n    return tf.keras.layers.Dense(1)",
     "from keras import layers\ndef build_mnist_cnn():\n    return layers.Dense(1)"),
    ("def conv_output_size(size, kernel):\n    return (size, kernel)",
     "def conv_output_size(size, kernel):\n    return [size, kernel]"),
], ids=["augmented assignment", "swapped comparison", "comprehension variable", "keras through tf", "list or tuple"])
def test_equivalent_spellings_give_one_stream(left, right):
    question = "q7" if "keras" in left else "q5"
    assert streams(left, question) == streams(right, question)


def test_a_helper_is_inlined_where_it_is_used():
    helper = ("def _span(kernel, dilation):\n    return dilation * (kernel - 1) + 1\n\n"
              "def conv_output_size(size, kernel, stride=1, padding='valid', dilation=1):\n"
              "    return (size - _span(kernel, dilation)) // stride + 1\n")
    inline = ("def conv_output_size(size, kernel, stride=1, padding='valid', dilation=1):\n"
              "    return (size - (dilation * (kernel - 1) + 1)) // stride + 1\n")
    with_helper, inlined = streams(helper, "q5")[0], streams(inline, "q5")[0]
    assert [t for t in with_helper if t not in ("(", ")")] == [t for t in inlined if t not in ("(", ")")]


def test_recursion_is_not_inlined_forever():
    source = "def conv_output_size(size, kernel):\n    return conv_output_size(size - 1, kernel) if size else 0\n"
    assert "fn" in streams(source, "q5")[0]


def test_each_contract_definition_is_its_own_stream_so_order_does_not_matter():
    first = "def dense_params(a, b):\n    return a * b + b\n\ndef lstm_params(a, b):\n    return 4 * (a + b + 1) * b\n"
    second = "def lstm_params(a, b):\n    return 4 * (a + b + 1) * b\n\ndef dense_params(a, b):\n    return a * b + b\n"
    assert sorted(streams(first, "q4")) == sorted(streams(second, "q4"))


def test_every_token_knows_its_line_in_the_question_text():
    code = code_from_source(BATCHNORM, "q6")
    stream = token_streams(code, max_tokens=10_000)[0]
    lines = code.text.splitlines()
    sqrt_line = stream.lines[stream.tokens.index("numpy.sqrt")]
    assert "np.sqrt" in lines[sqrt_line - 1]


def test_a_huge_answer_is_refused_not_walked():
    source = "def dense_params(a, b):\n" + "".join(f"    a = a + {i}\n" for i in range(400)) + "    return a\n"
    with pytest.raises(TooLarge):
        token_streams(code_from_source(source, "q4"), max_tokens=500)


def test_winnowing_keeps_the_rightmost_minimum_of_every_window_and_no_position_twice():
    hashes = [5, 3, 3, 9, 1, 7, 1, 8]
    assert winnow(hashes, 3) == [2, 4, 6]
    assert winnow(hashes[:2], 3) == [1]
    assert winnow([], 3) == []


@pytest.mark.slow  # two child interpreters
def test_fingerprints_are_the_same_in_every_process():
    import subprocess
    import sys

    program = ("from graders.similarity.extract import code_from_source as c; "
               "from graders.similarity.normalise import token_streams as t; "
               "from graders.similarity.fingerprint import fingerprint as f; "
               f"print(sorted(f(t(c({BATCHNORM!r}, 'q6'), max_tokens=9999), k=10, window=5).lines))")
    root = Path(__file__).resolve().parents[2]
    runs = {subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=root,
                           env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}).stdout for seed in ("1", "2")}
    assert len(runs) == 1
    assert len(fingerprint(token_streams(code_from_source(BATCHNORM, "q6"), max_tokens=9999), k=10, window=5)) > 5
