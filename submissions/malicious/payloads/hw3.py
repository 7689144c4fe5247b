"""Hostile sample: returns a pickled __reduce__ payload, a pickle's bytes and an object array."""
import os
import pickle

import numpy as np


class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/hw3-pwned-pickle",))


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    return Payload()


def simple_rnn_params(input_dim, units):
    return pickle.dumps(Payload())


def lstm_params(input_dim, units):
    return np.array([Payload()], dtype=object)


def dense_params(in_features, units):
    return in_features * units + units
