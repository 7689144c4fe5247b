"""Hostile sample: one function never returns. Its checks time out; the rest is still graded."""


def dense_params(in_features, units):
    return in_features * units + units


def same_padding(size, kernel, stride=1, dilation=1):
    while True:
        pass


LAYER_TABLE = [
    ((256, 256, 64), 1792),
    ((124, 124, 32), 51232),
    ((62, 62, 32), 0),
    ((62, 62, 128), 36992),
    ((23, 23, 64), 204864),
    ((11, 11, 64), 0),
    ((11, 11, 256), 147712),
    (None, 819328),
    (None, 0),
]
