"""Hostile sample: patches numpy, np.testing, math and builtins at import, then answers wrongly."""
import builtins
import math

import numpy as np

np.testing.assert_allclose = lambda *args, **kwargs: None
np.allclose = np.isclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
math.isclose = lambda *args, **kwargs: True
builtins.abs = lambda value: 0
builtins.isinstance = lambda *args: True


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    return 1


def dense_params(in_features, units):
    return in_features * units + units
