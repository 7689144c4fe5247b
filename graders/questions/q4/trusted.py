"""q4's trusted computations (graders/core/trusted.py): the reference's counts and what each known
mistake counts on the grader's cases (recorded for the student kit's public cases)."""

from graders.core.expect import mistakes_computation
from reference import q4_params as ref


def _gate(input_dim, units):
    return units * (input_dim + units) + units


def _kh_kw(kernel_size):
    return tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)


def _weights(kernel_size, in_channels, filters):
    kh, kw = _kh_kw(kernel_size)
    return kh * kw * in_channels * filters


def _first_side_squared(kernel_size, in_channels, filters, use_bias=True):
    side = _kh_kw(kernel_size)[0]
    return side * side * in_channels * filters + (filters if use_bias else 0)


FUNCTIONS = {
    "conv2d_params": {
        "use_bias ignored": lambda k, c, f, b=True: _weights(k, c, f) + f,
        "no bias": lambda k, c, f, b=True: _weights(k, c, f),
        "input channels left out": lambda k, c, f, b=True: _weights(k, 1, f) + (f if b else 0),
        "one side of the kernel squared": _first_side_squared,
    },
    "dense_params": {
        "no bias": lambda n, u: n * u,
        "a bias per input": lambda n, u: n * u + n,
    },
    "simple_rnn_params": {
        "no recurrent kernel": lambda d, u: u * d + u,
        "no bias": lambda d, u: u * (d + u),
    },
    "lstm_params": {
        "no bias": lambda d, u: 4 * u * (d + u),
        "three gates": lambda d, u: 3 * _gate(d, u),
        "one gate": _gate,
    },
    "gru_params": {
        "reset_after ignored": lambda d, u, r=True: 3 * _gate(d, u),
        "second bias always counted": lambda d, u, r=True: 3 * _gate(d, u) + 3 * u,
        "four gates": lambda d, u, r=True: 4 * _gate(d, u) + (4 * u if r else 0),
    },
}


COMPUTE = {
    **{name: getattr(ref, name) for name in FUNCTIONS},
    **{f"mistakes.{name}": mistakes_computation(functions) for name, functions in FUNCTIONS.items()},
}
ANSWERS = frozenset()
