"""Hostile sample: returns objects whose __eq__, __float__ or __array__ lie, NaN, and an ndarray subclass."""
import numpy as np


class AlwaysEqual(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class Liar:
    def __float__(self):
        return 1.0

    def __array__(self, dtype=None, copy=None):
        return np.array(1.0)

    def __eq__(self, other):
        return True


class Sneaky(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    return AlwaysEqual(0)


def simple_rnn_params(input_dim, units):
    return Liar()


def lstm_params(input_dim, units):
    return float("nan")


def gru_params(input_dim, units, reset_after=True):
    return np.zeros(3).view(Sneaky)


def dense_params(in_features, units):
    return in_features * units + units
