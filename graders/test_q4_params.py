"""q4: parameter counts of CNN and RNN layers, on random configurations drawn from the seed."""

from dataclasses import dataclass

import pytest

from graders.harness.expect import expect_same_ints
from reference import q4_params as ref


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q4]."""

    cases: int  # random configurations per check


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section("q4", Settings)


def _cases(rng, settings, draw):
    return [draw(rng) for _ in range(settings.cases)]


def _size(rng, low=1, high=256):
    return int(rng.integers(low, high + 1))


@pytest.mark.check("q4.conv2d")
def test_conv2d_params(student, rng, settings):
    def draw(r):
        return {"kernel_size": int(r.choice([1, 3, 5, 7])), "in_channels": _size(r), "filters": _size(r),
                "use_bias": bool(r.integers(2))}

    for params in _cases(rng, settings, draw):
        expect_same_ints(student, "conv2d_params", ref.conv2d_params, params)


@pytest.mark.check("q4.dense")
def test_dense_params(student, rng, settings):
    for params in _cases(rng, settings, lambda r: {"in_features": _size(r, 1, 4096), "units": _size(r)}):
        expect_same_ints(student, "dense_params", ref.dense_params, params)


@pytest.mark.check("q4.simple_rnn")
def test_simple_rnn_params(student, rng, settings):
    for params in _cases(rng, settings, lambda r: {"input_dim": _size(r), "units": _size(r)}):
        expect_same_ints(student, "simple_rnn_params", ref.simple_rnn_params, params)


@pytest.mark.check("q4.lstm")
def test_lstm_params(student, rng, settings):
    for params in _cases(rng, settings, lambda r: {"input_dim": _size(r), "units": _size(r)}):
        expect_same_ints(student, "lstm_params", ref.lstm_params, params)


@pytest.mark.check("q4.gru.reset_after")
def test_gru_params_reset_after(student, rng, settings):
    """Keras' default GRU (reset_after=True) has a second bias vector: 3 * units more."""
    for params in _cases(rng, settings, lambda r: {"input_dim": _size(r), "units": _size(r), "reset_after": True}):
        expect_same_ints(student, "gru_params", ref.gru_params, params)


@pytest.mark.check("q4.gru.reset_before")
def test_gru_params_reset_before(student, rng, settings):
    for params in _cases(rng, settings, lambda r: {"input_dim": _size(r), "units": _size(r), "reset_after": False}):
        expect_same_ints(student, "gru_params", ref.gru_params, params)
