"""Checks reference.q4_params against the parameter counts of real, built Keras layers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from graders import test_q4_params as grader
from graders.questions.q4.judges import Settings
from reference.q4_params import (
    conv2d_params,
    dense_params,
    gru_params,
    lstm_params,
    simple_rnn_params,
)
from tests.reference.in_process import (
    FakeStudent,
    catalogued_mistakes,
    checks_of,
    diagnoses,
    failed,
    lost_checks,
    rubric_settings,
    run_checks,
)

N_CASES = 20
TIME_STEPS = 3  # any length works: recurrent weights do not depend on it


def _cases(seed, make):
    # Fixed seed per function: reproducible ids, independent of test order.
    rng = np.random.default_rng(seed)
    return [make(rng) for _ in range(N_CASES)]


def _conv_case(rng):
    if rng.random() < 0.5:
        kernel = int(rng.integers(1, 8))
    else:
        kernel = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    return kernel, int(rng.integers(1, 9)), int(rng.integers(1, 9)), bool(rng.random() < 0.7)


def _pair(rng):
    return int(rng.integers(1, 17)), int(rng.integers(1, 17))


@pytest.mark.parametrize("kernel, in_channels, filters, use_bias", _cases(4001, _conv_case))
def test_conv2d_params_match_keras(kernel, in_channels, filters, use_bias):
    layer = keras.layers.Conv2D(filters, kernel, use_bias=use_bias)
    layer.build((None, 16, 16, in_channels))  # 16 > largest kernel, so the build is valid
    assert conv2d_params(kernel, in_channels, filters, use_bias=use_bias) == layer.count_params()


@pytest.mark.parametrize("in_features, units", _cases(4002, _pair))
def test_dense_params_match_keras(in_features, units):
    layer = keras.layers.Dense(units)
    layer.build((None, in_features))
    assert dense_params(in_features, units) == layer.count_params()


@pytest.mark.parametrize("input_dim, units", _cases(4003, _pair))
def test_simple_rnn_params_match_keras(input_dim, units):
    layer = keras.layers.SimpleRNN(units)
    layer.build((None, TIME_STEPS, input_dim))
    assert simple_rnn_params(input_dim, units) == layer.count_params()


@pytest.mark.parametrize("input_dim, units", _cases(4004, _pair))
def test_lstm_params_match_keras(input_dim, units):
    layer = keras.layers.LSTM(units)
    layer.build((None, TIME_STEPS, input_dim))
    assert lstm_params(input_dim, units) == layer.count_params()


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("input_dim, units", _cases(4005, _pair))
def test_gru_params_match_keras(input_dim, units, reset_after):
    layer = keras.layers.GRU(units, reset_after=reset_after)
    layer.build((None, TIME_STEPS, input_dim))
    assert gru_params(input_dim, units, reset_after=reset_after) == layer.count_params()


def test_gru_default_is_reset_after_like_keras():
    # Keras' GRU default is reset_after=True; the reference's default must agree.
    layer = keras.layers.GRU(7)
    layer.build((None, TIME_STEPS, 5))
    assert gru_params(5, 7) == layer.count_params() == gru_params(5, 7, reset_after=True)
    assert gru_params(5, 7, reset_after=True) - gru_params(5, 7, reset_after=False) == 3 * 7


def test_textbook_values():
    # Well-known counts, so a failure here is readable without Keras.
    assert conv2d_params(3, 3, 64) == 1792
    assert conv2d_params((3, 5), 2, 4, use_bias=False) == 120
    assert dense_params(784, 10) == 7850
    assert simple_rnn_params(32, 64) == 6208
    assert lstm_params(32, 64) == 24832
    assert gru_params(32, 64, reset_after=False) == 18624
    assert gru_params(32, 64) == 18816


@pytest.mark.parametrize("call", [
    lambda: conv2d_params(0, 3, 4),
    lambda: conv2d_params((3,), 3, 4),
    lambda: conv2d_params(3, -1, 4),
    lambda: dense_params(3, 0),
    lambda: lstm_params(2.5, 4),
    lambda: gru_params(True, 4),
])
def test_rejects_bad_sizes(call):
    with pytest.raises(ValueError):
        call()


# -- the grader's checks at the default seed (tests/reference/test_sweep_q4_q5_q6.py sweeps many) --

MISTAKES = catalogued_mistakes("q4")
REFERENCE = {name: globals()[name] for name in ("conv2d_params", "dense_params", "simple_rnn_params",
                                                "lstm_params", "gru_params")}


def test_every_function_mistake_names_the_checks_it_loses():
    assert {function for function, _, _ in MISTAKES} == set(REFERENCE)
    assert all(mistake.loses for _, mistake, _ in MISTAKES)


@pytest.mark.parametrize("function, mistake, wrong", MISTAKES, ids=lambda value: getattr(value, "name", None))
def test_each_mistake_loses_its_checks_and_is_named_at_the_default_seed(function, mistake, wrong):
    outcomes = run_checks(checks_of(grader), FakeStudent({**REFERENCE, function: wrong}), 1234,
                          rubric_settings("q4", Settings))
    assert failed(outcomes) == lost_checks("q4", mistake)
    assert diagnoses(outcomes) == {mistake.name}
    assert all(mistake.name in str(outcomes[check].failure) for check in failed(outcomes))


@pytest.mark.parametrize("function, mistake, wrong", MISTAKES, ids=lambda value: getattr(value, "name", None))
def test_every_known_mistake_is_wrong_on_a_fixed_case(function, mistake, wrong):
    """So that no seed can miss it: the random draws only add to the fixed cases."""
    fixed = [case for key, cases in grader.FIXED.items() if key.split(".")[0] == function for case in cases]
    assert any(wrong(*case.values()) != REFERENCE[function](*case.values()) for case in fixed), mistake.name


def test_kernel_size_is_drawn_as_an_int_and_as_a_pair():
    rng = np.random.default_rng(0)
    kernels = [grader._conv2d_case(rng)["kernel_size"] for _ in range(40)]
    assert any(isinstance(k, int) for k in kernels) and any(isinstance(k, tuple) and k[0] != k[1] for k in kernels)


def as_numpy_int(function):
    return lambda *args: np.int64(function(*args))


def test_the_reference_passes_and_numpy_integers_are_noted_not_failed():
    outcomes = run_checks(checks_of(grader), FakeStudent(REFERENCE), 1234, rubric_settings("q4", Settings))
    assert not failed(outcomes)
    numpy_ints = {name: as_numpy_int(function) for name, function in REFERENCE.items()}
    outcomes = run_checks(checks_of(grader), FakeStudent(numpy_ints, plain=False), 1234,
                          rubric_settings("q4", Settings))
    assert not failed(outcomes)
    assert outcomes["q4.dense"].details["representations"] == ["dense_params returned a NumPy integer"]
