"""Parameter counting (question 4)."""
from typing import Sequence, Union

Kernel = Union[int, Sequence[int]]


def conv2d_params(kernel_size: Kernel, in_channels: int, filters: int, use_bias: bool = True) -> int:
    dims = [kernel_size, kernel_size] if type(kernel_size) is int else list(kernel_size)
    n = in_channels * filters
    for d in dims:
        n *= d
    return n + filters * use_bias


def dense_params(in_features: int, units: int) -> int:
    return sum([in_features * units, units])


def simple_rnn_params(input_dim: int, units: int) -> int:
    parts = [input_dim * units, units ** 2, units]
    return sum(parts)


def lstm_params(input_dim: int, units: int) -> int:
    parts = [4 * input_dim * units, 4 * units ** 2, 4 * units]
    return sum(parts)


def gru_params(input_dim: int, units: int, reset_after: bool = True) -> int:
    biases = 6 * units if reset_after else 3 * units
    parts = [3 * input_dim * units, 3 * units ** 2, biases]
    return sum(parts)
