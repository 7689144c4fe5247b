"""q4: parameter counts of CNN and RNN layers: fixed edge cases, then random configurations from the seed.

Every input the contract allows is drawn (a Conv2D kernel_size as an int and as a (kh, kw) pair), and
defaults are exercised by leaving them out (`use_bias`, `reset_after`); the fixed cases make sure each
known mistake (graders/questions/q4/mistakes.py) shows on every seed. Each check observes the student's,
the reference's and the known mistakes' counts (graders/core/expect.py); its judge names the mistake
the answers match.
"""

import pytest

from graders.core.errors import StudentException
from graders.core.expect import observe_int_cases
from graders.questions.q4.judges import Settings

Q = "q4"


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section(Q, Settings)


def _size(rng, low=1, high=256):
    return int(rng.integers(low, high + 1))


def _kernel(rng):
    """An int (a square kernel) or a (kh, kw) pair, as often as each other."""
    if rng.random() < 0.5:
        return int(rng.choice([1, 3, 5, 7]))
    return _size(rng, 1, 7), _size(rng, 1, 7)


def _conv2d_case(rng):
    case = {"kernel_size": _kernel(rng), "in_channels": _size(rng), "filters": _size(rng)}
    use_bias = int(rng.integers(3))  # False, True, or left out (the default, True)
    return case if use_bias == 2 else {**case, "use_bias": bool(use_bias)}


def _recurrent_case(rng):
    return {"input_dim": _size(rng), "units": _size(rng)}


def _gru_case(reset_after):
    """reset_after=True is also left out (Keras' default) as often as it is given."""
    def draw(rng):
        case = _recurrent_case(rng)
        return case if reset_after and rng.random() < 0.5 else {**case, "reset_after": reset_after}

    return draw


def _textbook():
    """Recurrent cases where input_dim != units (a swapped formula shows) and one of each size 1."""
    cases = [(32, 64), (100, 20), (1, 7), (5, 1)]
    return [{"input_dim": a, "units": b} for a, b in cases]


# Fixed cases of each check: every known mistake is wrong on at least one of them, and every default
# is left out at least once where it changes the count.
FIXED = {
    "conv2d_params": [
        {"kernel_size": 3, "in_channels": 3, "filters": 64, "use_bias": True},  # 1792
        {"kernel_size": (3, 5), "in_channels": 2, "filters": 4, "use_bias": False},  # a pair, no bias: 120
        {"kernel_size": (1, 7), "in_channels": 16, "filters": 8, "use_bias": True},
        {"kernel_size": 5, "in_channels": 6, "filters": 10, "use_bias": False},
        {"kernel_size": (2, 3), "in_channels": 4, "filters": 5},  # use_bias left out: its default, True
    ],
    "dense_params": [{"in_features": 784, "units": 10}, {"in_features": 1, "units": 5}, {"in_features": 64, "units": 1}],
    "simple_rnn_params": _textbook(),
    "lstm_params": _textbook(),
    "gru_params.reset_after": [{**case, "reset_after": True} for case in _textbook()] + _textbook()[:2],
    "gru_params.reset_before": [{**case, "reset_after": False} for case in _textbook()],
}


def _observe(student, trusted, rng, settings, check, name, draw, fixed_key=None):
    cases = FIXED[fixed_key or name] + [draw(rng) for _ in range(settings.cases)]
    check.observe("int_cases", **observe_int_cases(student, trusted, Q, name, cases))


@pytest.mark.check("q4.conv2d")
def test_conv2d_params(student, trusted, rng, settings, check):
    try:
        _observe(student, trusted, rng, settings, check, "conv2d_params", _conv2d_case)
    except StudentException as error:
        if not str(error).startswith("conv2d_params(kernel_size=("):
            raise
        raise StudentException(f"{error}\nkernel_size may be an int (a square kernel) or a (kh, kw) pair: "
                               "conv2d_params must take both") from None


@pytest.mark.check("q4.dense")
def test_dense_params(student, trusted, rng, settings, check):
    _observe(student, trusted, rng, settings, check, "dense_params",
             lambda r: {"in_features": _size(r, 1, 4096), "units": _size(r)})


@pytest.mark.check("q4.simple_rnn")
def test_simple_rnn_params(student, trusted, rng, settings, check):
    _observe(student, trusted, rng, settings, check, "simple_rnn_params", _recurrent_case)


@pytest.mark.check("q4.lstm")
def test_lstm_params(student, trusted, rng, settings, check):
    _observe(student, trusted, rng, settings, check, "lstm_params", _recurrent_case)


@pytest.mark.check("q4.gru.reset_after")
def test_gru_params_reset_after(student, trusted, rng, settings, check):
    """Keras' default GRU (reset_after=True) has a second bias vector: 3 * units more."""
    _observe(student, trusted, rng, settings, check, "gru_params", _gru_case(True), "gru_params.reset_after")


@pytest.mark.check("q4.gru.reset_before")
def test_gru_params_reset_before(student, trusted, rng, settings, check):
    _observe(student, trusted, rng, settings, check, "gru_params", _gru_case(False), "gru_params.reset_before")
