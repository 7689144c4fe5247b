"""Q4 reference: trainable-parameter counts of common Keras layers.

Every function returns exactly what ``layer.count_params()`` reports for the
corresponding Keras 3 layer once it is built. Pure Python on purpose: the
grader calls these many times and must not pay for importing TensorFlow.
"""

from __future__ import annotations

__all__ = [
    "conv2d_params",
    "dense_params",
    "simple_rnn_params",
    "lstm_params",
    "gru_params",
]


def _positive_int(name: str, value) -> int:
    # bool is an int subclass; True as a size is almost certainly a bug.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _kernel_hw(kernel_size) -> tuple[int, int]:
    # Keras accepts an int (square kernel) or a (kh, kw) pair; mirror that.
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2:
            raise ValueError(f"kernel_size must be an int or a (kh, kw) pair, got {kernel_size!r}")
        return _positive_int("kh", kernel_size[0]), _positive_int("kw", kernel_size[1])
    k = _positive_int("kernel_size", kernel_size)
    return k, k


def conv2d_params(kernel_size, in_channels: int, filters: int, use_bias: bool = True) -> int:
    """Parameters of keras.layers.Conv2D.

    Args:
        kernel_size: an int (a square kernel) or a (kh, kw) pair.
        in_channels: channels of the input feature map.
        filters: number of output channels.
        use_bias: whether the layer has a bias.

    Returns:
        The parameter count, an int.
    """
    # BEGIN SOLUTION
    # kh * kw * in_channels * filters weights, plus one bias per filter.
    kh, kw = _kernel_hw(kernel_size)
    in_channels = _positive_int("in_channels", in_channels)
    filters = _positive_int("filters", filters)
    return kh * kw * in_channels * filters + (filters if use_bias else 0)
    # END SOLUTION


def dense_params(in_features: int, units: int) -> int:
    """Parameters of keras.layers.Dense, with its bias.

    Args:
        in_features: size of the last input dimension.
        units: number of output units.

    Returns:
        The parameter count, an int.
    """
    # BEGIN SOLUTION
    # A weight per input and unit, and a bias per unit.
    in_features = _positive_int("in_features", in_features)
    units = _positive_int("units", units)
    return in_features * units + units
    # END SOLUTION


def _gate_params(input_dim: int, units: int) -> int:
    # One gate = input kernel (input_dim x units) + recurrent kernel
    # (units x units) + one bias vector (units).
    input_dim = _positive_int("input_dim", input_dim)
    units = _positive_int("units", units)
    return units * (input_dim + units) + units


def simple_rnn_params(input_dim: int, units: int) -> int:
    """Parameters of keras.layers.SimpleRNN.

    Args:
        input_dim: features per time step.
        units: hidden-state size.

    Returns:
        The parameter count, an int.
    """
    # BEGIN SOLUTION
    # units * (input_dim + units) + units: one gate.
    return _gate_params(input_dim, units)
    # END SOLUTION


def lstm_params(input_dim: int, units: int) -> int:
    """Parameters of keras.layers.LSTM.

    Args:
        input_dim: features per time step.
        units: hidden-state size.

    Returns:
        The parameter count, an int.
    """
    # BEGIN SOLUTION
    # Four gates (input, forget, cell, output), each units * (input_dim + units) + units.
    return 4 * _gate_params(input_dim, units)
    # END SOLUTION


def gru_params(input_dim: int, units: int, reset_after: bool = True) -> int:
    """Parameters of keras.layers.GRU.

    Args:
        input_dim: features per time step.
        units: hidden-state size.
        reset_after: as in keras.layers.GRU (True is Keras' default).

    Returns:
        The parameter count, an int.
    """
    # BEGIN SOLUTION
    # Three gates, each units * (input_dim + units) + units; reset_after (the cuDNN-compatible
    # variant, Keras' default) keeps a separate bias for the recurrent kernel: 3 * units more.
    base = 3 * _gate_params(input_dim, units)
    return base + (3 * units if reset_after else 0)
    # END SOLUTION
