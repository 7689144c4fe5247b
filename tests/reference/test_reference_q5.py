"""Checks reference.q5_shapes against real Keras / TensorFlow layers, not against formulas.

Keras' Conv2D and tf.nn.convolution refuse strides > 1 together with
dilation_rate > 1. Where a test needs that combination it is emulated:
- "valid": a strided convolution is exactly the stride-1 convolution sampled
  every s-th row and column (output i reads input i*s + j*d, j < kernel), so
  y_strided == y_stride1[:, ::s, ::s, :];
- "same": the padding depends on the stride, so sub-sampling does not emulate
  it; there the raw op tf.nn.conv2d is used, which does accept both (checked
  against the "valid" emulation in test_raw_conv2d_accepts_stride_with_dilation).
"""

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest
import tensorflow as tf

from reference.q5_shapes import (
    INPUT_SHAPE,
    LAYER_TABLE,
    NETWORK,
    Layer,
    conv_output_size,
    layer_table,
    pool_output_size,
    same_padding,
)

# Errors real layers raise when an output would be empty: Keras' build raises
# ValueError, the TF ops (conv, oneDNN max-pool) raise an OpError subclass.
EMPTY_OUTPUT_ERRORS = (ValueError, tf.errors.OpError)


def _effective(kernel, dilation):
    return dilation * (kernel - 1) + 1


def _real_conv(x, conv, stride, dilation, padding):
    """Forward x through a built Keras Conv2D `conv` (built with strides=1 when
    stride and dilation are both > 1), applying `stride` the way TF would."""
    if stride > 1 and dilation > 1:
        if padding == "valid":
            return conv(x)[:, ::stride, ::stride, :]
        if not conv.built:
            conv.build(x.shape)
        y = tf.nn.conv2d(x, conv.kernel, strides=stride, padding="SAME", dilations=dilation)
        return y + conv.bias if conv.use_bias else y
    return conv(x)


def _keras_conv(filters, kernel, stride, dilation, padding):
    # Keras refuses strides > 1 with dilation > 1: build the stride-1 layer,
    # _real_conv applies the stride (parameters do not depend on the stride).
    keras_stride = 1 if (stride > 1 and dilation > 1) else stride
    return keras.layers.Conv2D(filters, kernel, strides=keras_stride, dilation_rate=dilation,
                               padding=padding)


# ---------------------------------------------------------------- conv_output_size

def _conv_cases(seed, n):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        kernel, stride, dilation = (int(rng.integers(1, 8)), int(rng.integers(1, 5)),
                                    int(rng.integers(1, 4)))
        padding = ("valid", "same")[len(cases) % 2]
        h, w = int(rng.integers(5, 65)), int(rng.integers(5, 65))
        if padding == "valid" and min(h, w) < _effective(kernel, dilation):
            continue  # empty output: covered by test_conv_empty_output_is_zero
        cases.append((h, w, kernel, stride, dilation, padding))
    return cases


CONV_CASES = _conv_cases(5001, 48)


def test_conv_cases_cover_stride_with_dilation():
    both = {c[5] for c in CONV_CASES if c[3] > 1 and c[4] > 1}
    assert both == {"valid", "same"}


@pytest.mark.parametrize("h, w, kernel, stride, dilation, padding", CONV_CASES)
def test_conv_output_size_matches_real_layer(h, w, kernel, stride, dilation, padding):
    conv = _keras_conv(1, kernel, stride, dilation, padding)
    y = _real_conv(tf.zeros((1, h, w, 1)), conv, stride, dilation, padding)
    # Different H and W: each axis is checked on its own.
    assert (conv_output_size(h, kernel, stride, padding, dilation),
            conv_output_size(w, kernel, stride, padding, dilation)) == tuple(y.shape[1:3])


@pytest.mark.parametrize("size, kernel, stride, dilation", [
    (4, 5, 1, 1), (8, 3, 2, 4), (11, 5, 2, 8), (1, 2, 1, 1),
])
def test_conv_empty_output_is_zero(size, kernel, stride, dilation):
    assert _effective(kernel, dilation) > size
    assert conv_output_size(size, kernel, stride, "valid", dilation) == 0
    # ... while "same" always has an output.
    assert conv_output_size(size, kernel, stride, "same", dilation) == math.ceil(size / stride)
    # The real layer refuses to produce it.
    with pytest.raises(EMPTY_OUTPUT_ERRORS):
        conv = keras.layers.Conv2D(1, kernel, dilation_rate=dilation)
        conv(tf.zeros((1, size, size, 1)))


def test_raw_conv2d_accepts_stride_with_dilation():
    # Justifies using tf.nn.conv2d for "same" with stride and dilation both > 1:
    # in "valid" it agrees numerically with the sub-sampling emulation.
    rng = np.random.default_rng(5002)
    for h, w, kernel, stride, dilation in [(23, 30, 3, 2, 2), (40, 33, 5, 3, 3), (17, 19, 2, 4, 2)]:
        x = tf.constant(rng.standard_normal((1, h, w, 2)), tf.float32)
        f = tf.constant(rng.standard_normal((kernel, kernel, 2, 3)), tf.float32)
        raw = tf.nn.conv2d(x, f, strides=stride, padding="VALID", dilations=dilation)
        emulated = tf.nn.conv2d(x, f, strides=1, padding="VALID", dilations=dilation)
        np.testing.assert_allclose(raw.numpy(), emulated[:, ::stride, ::stride, :].numpy(),
                                   rtol=1e-4, atol=1e-4)


def test_unknown_padding_rejected():
    for call in (lambda: conv_output_size(10, 3, padding="full"),
                 lambda: pool_output_size(10, 2, padding="causal"),
                 lambda: conv_output_size(10, 3, padding=None)):
        with pytest.raises(ValueError):
            call()
    # Raw TF's upper-case spelling is the same padding.
    assert conv_output_size(10, 3, 2, "SAME") == conv_output_size(10, 3, 2, "same") == 5


# ---------------------------------------------------------------- pool_output_size

def _pool_cases(seed, n):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        pool = int(rng.integers(1, 5))
        stride = None if rng.random() < 0.3 else int(rng.integers(1, 5))
        padding = ("valid", "same")[len(cases) % 2]
        h, w = int(rng.integers(2, 41)), int(rng.integers(2, 41))
        if padding == "valid" and min(h, w) < pool:
            continue
        cases.append((h, w, pool, stride, padding))
    return cases


POOL_CASES = _pool_cases(5003, 30)


def test_pool_cases_cover_strides():
    strides = [(c[2], c[3]) for c in POOL_CASES]
    assert any(s is None for _, s in strides)
    assert any(s is not None and s != p for p, s in strides)


@pytest.mark.parametrize("h, w, pool, stride, padding", POOL_CASES)
def test_pool_output_size_matches_keras(h, w, pool, stride, padding):
    x = tf.constant(np.random.default_rng(h * 100 + w).standard_normal((1, h, w, 2)), tf.float32)
    y = keras.layers.MaxPooling2D(pool_size=pool, strides=stride, padding=padding)(x)
    assert (pool_output_size(h, pool, stride, padding),
            pool_output_size(w, pool, stride, padding)) == tuple(y.shape[1:3])


def test_pool_empty_output_is_zero():
    assert pool_output_size(3, 4) == 0
    try:  # Keras refuses it, or (3.15.1) returns an empty output: either way, no pixel comes out
        shape = tuple(keras.layers.MaxPooling2D(4)(tf.zeros((1, 3, 3, 1))).shape)
    except EMPTY_OUTPUT_ERRORS:
        return
    assert shape[1:3] == (0, 0)


# ---------------------------------------------------------------- same_padding

def _naive_padding(kernel, dilation):
    # The stride-1 rule: k - 1 in total, whatever the stride.
    total = _effective(kernel, dilation) - 1
    return total // 2, total - total // 2


def _same_cases(seed, n):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        kernel, stride, dilation = (int(rng.integers(1, 8)), int(rng.integers(1, 5)),
                                    int(rng.integers(1, 4)))
        if i % 2:
            # Sizes divisible by the stride: where the stride-1 rule over-pads.
            stride = max(stride, 2)
            size_h = stride * int(rng.integers(3, 11))
        else:
            size_h = int(rng.integers(5, 41))
        cases.append((size_h, int(rng.integers(5, 41)), kernel, stride, dilation))
    return cases


SAME_CASES = _same_cases(5004, 36) + [
    (8, 8, 3, 2, 1),    # TF pads (0, 1), not (1, 1)
    (16, 12, 4, 4, 1),  # (0, 0): the windows tile the input exactly
    (6, 9, 2, 3, 2),    # stride and dilation together
    (5, 7, 7, 1, 3),    # effective kernel 19 > size: padding larger than the input
]


def test_same_cases_include_stride_only_differences():
    differing = [c for c in SAME_CASES
                 if c[3] > 1 and c[0] % c[3] == 0 and same_padding(c[0], c[2], c[3], c[4])
                 != _naive_padding(c[2], c[4])]
    assert len(differing) >= 5


@pytest.mark.parametrize("h, w, kernel, stride, dilation", SAME_CASES)
def test_same_padding_reproduces_tf_same(h, w, kernel, stride, dilation):
    rng = np.random.default_rng(h * 1000 + w * 10 + kernel)
    x = tf.constant(rng.standard_normal((1, h, w, 2)), tf.float32)
    f = tf.constant(rng.standard_normal((kernel, kernel, 2, 3)), tf.float32)
    if stride > 1 and dilation > 1:
        same = tf.nn.conv2d(x, f, strides=stride, padding="SAME", dilations=dilation)
    else:
        same = tf.nn.convolution(x, f, strides=stride, padding="SAME", dilations=dilation)
    pad_h, pad_w = same_padding(h, kernel, stride, dilation), same_padding(w, kernel, stride, dilation)
    padded = tf.pad(x, [(0, 0), pad_h, pad_w, (0, 0)])
    # VALID on the explicitly padded input; stride applied by sub-sampling, which
    # is exact for VALID and avoids the op's stride/dilation restriction.
    valid = tf.nn.convolution(padded, f, strides=1, padding="VALID", dilations=dilation)
    valid = valid[:, ::stride, ::stride, :]
    assert valid.shape == same.shape
    np.testing.assert_allclose(valid.numpy(), same.numpy(), rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- the network

def _real_table(network, input_shape):
    """(output shape or None, params) per layer, from real Keras layers."""
    h, w, channels = input_shape
    x = tf.zeros((1, h, w, channels))
    rows = []
    for layer in network:
        if layer.kind == "conv":
            def make(layer=layer):
                return _keras_conv(layer.filters, layer.kernel, layer.stride, layer.dilation,
                                   layer.padding)
            if x is not None:
                conv = make()
                try:
                    # Build on the concrete shape first: Keras then checks the
                    # output is non-empty. Do not skip this: tf.nn.convolution
                    # with dilation > 1 on an input smaller than the effective
                    # kernel returns a non-empty tensor of garbage instead of
                    # failing (TF 2.21, CPU).
                    conv.build(tuple(x.shape))
                    x = _real_conv(x, conv, layer.stride, layer.dilation, layer.padding)
                except EMPTY_OUTPUT_ERRORS:
                    x = None
            if x is None:
                # Invalid from here on; parameters exist all the same, so
                # build without a spatial size, which Keras cannot check.
                conv = make()
                conv.build((None, None, None, channels))
            params = conv.count_params()
            channels = layer.filters
        else:
            pool = keras.layers.MaxPooling2D(layer.kernel, layer.stride, padding=layer.padding)
            params = pool.count_params()
            if x is not None:
                try:
                    x = pool(x)
                except EMPTY_OUTPUT_ERRORS:
                    x = None
        if x is not None and 0 in x.shape:
            x = None
        rows.append((None if x is None else tuple(int(d) for d in x.shape[1:]), params))
    return rows


EXPECTED_TABLE = [
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


def test_network_is_the_homework_network():
    assert INPUT_SHAPE == (256, 256, 3)
    assert [layer.label for layer in NETWORK] == [
        "Conv(64, 3x3, s1, same)",
        "DilatedConv(32, 5x5, s2, d2, valid)",
        "MaxPool(2, s2)",
        "Conv(128, 3x3, s1, same)",
        "DilatedConv(64, 5x5, s2, d4, valid)",
        "MaxPool(2, s2)",
        "Conv(256, 3x3, s1, same)",
        "DilatedConv(128, 5x5, s2, d8, valid)",
        "MaxPool(2, s2)",
    ]
    assert LAYER_TABLE == layer_table(NETWORK, INPUT_SHAPE) == EXPECTED_TABLE


def test_layer_table_matches_real_keras_network():
    assert LAYER_TABLE == _real_table(NETWORK, INPUT_SHAPE)


def test_layer_8_is_invalid_because_its_kernel_exceeds_its_input():
    layer8 = NETWORK[7]
    size_in = LAYER_TABLE[6][0][0]
    assert size_in == 11 and _effective(layer8.kernel, layer8.dilation) == 33
    assert LAYER_TABLE[7][0] is None and LAYER_TABLE[8][0] is None
    # Real layers agree: Keras cannot even build it on an 11x11 input.
    conv = keras.layers.Conv2D(layer8.filters, layer8.kernel, dilation_rate=layer8.dilation)
    with pytest.raises(ValueError):
        conv.build((None, 11, 11, 256))
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.nn.conv2d(tf.zeros((1, 11, 11, 1)), tf.zeros((5, 5, 1, 1)), strides=1,
                     padding="VALID", dilations=8)


def _random_network(rng):
    layers = []
    for _ in range(int(rng.integers(3, 7))):
        if rng.random() < 0.3:
            pool, stride = int(rng.integers(2, 4)), int(rng.integers(1, 4))
            layers.append(Layer("pool", None, pool, stride, 1, "valid", f"MaxPool({pool}, s{stride})"))
        else:
            filters, kernel = int(rng.integers(1, 5)), int(rng.integers(1, 6))
            stride, dilation = int(rng.integers(1, 3)), int(rng.integers(1, 4))
            padding = ("valid", "same")[int(rng.integers(0, 2))]
            layers.append(Layer("conv", filters, kernel, stride, dilation, padding, "random"))
    return tuple(layers)


def test_layer_table_on_other_networks_matches_keras():
    # Guards against a table tuned to the homework network: random small
    # networks, several of which become invalid part-way.
    rng = np.random.default_rng(5005)
    invalid_seen = 0
    for _ in range(12):
        network = _random_network(rng)
        shape = (int(rng.integers(8, 40)), int(rng.integers(8, 40)), int(rng.integers(1, 4)))
        table = layer_table(network, shape)
        assert table == _real_table(network, shape), (network, shape)
        invalid_seen += table[-1][0] is None
    assert invalid_seen >= 2
