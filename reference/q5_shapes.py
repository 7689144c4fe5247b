"""Q5 reference: output sizes of convolutions / pooling, and the homework network's table.

Pure Python (``math`` only) so the grader can call it without importing
TensorFlow; the tests check every rule against real Keras / TF layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "same_padding",
    "Layer",
    "NETWORK",
    "INPUT_SHAPE",
    "layer_table",
    "LAYER_TABLE",
]

_PADDINGS = ("valid", "same")


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _padding(padding) -> str:
    # Keras spells it "valid"/"same", raw TF "VALID"/"SAME": accept either case.
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in _PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return p


def _effective_kernel(kernel: int, dilation: int) -> int:
    # A dilated kernel spans dilation-1 holes between each pair of taps.
    return dilation * (kernel - 1) + 1


def _output_size(size: int, k: int, stride: int, padding: str) -> int:
    if padding == "same":
        # 'same' pads just enough that every stride step starts inside the input.
        return math.ceil(size / stride)
    if size < k:
        return 0  # the window never fits: empty output (Keras/TF refuse to build it)
    return (size - k) // stride + 1


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid",
                     dilation: int = 1) -> int:
    """Output size of a convolution along one axis.

    Args:
        size: input size along the axis.
        kernel: kernel size along the axis.
        stride: step between windows.
        padding: "valid" or "same".
        dilation: dilation rate.

    Returns:
        The output size, an int.
    """
    # BEGIN SOLUTION
    # The effective kernel is dilation * (kernel - 1) + 1; then floor((size - k) / stride) + 1
    # for "valid" (0 when size < k), ceil(size / stride) for "same". Unknown padding or a
    # non-positive argument raises ValueError.
    padding = _padding(padding)
    size = _positive_int("size", size)
    kernel = _positive_int("kernel", kernel)
    stride = _positive_int("stride", stride)
    dilation = _positive_int("dilation", dilation)
    return _output_size(size, _effective_kernel(kernel, dilation), stride, padding)
    # END SOLUTION


def pool_output_size(size: int, pool: int, stride: int | None = None,
                     padding: str = "valid") -> int:
    """Output size of a pooling layer along one axis.

    Args:
        size: input size along the axis.
        pool: pooling window size.
        stride: step between windows; None means pool (Keras' default).
        padding: "valid" or "same".

    Returns:
        The output size, an int.
    """
    # BEGIN SOLUTION
    # floor((size - pool) / stride) + 1 for "valid" (0 when size < pool), ceil(size / stride) for "same".
    padding = _padding(padding)
    size = _positive_int("size", size)
    pool = _positive_int("pool", pool)
    stride = pool if stride is None else _positive_int("stride", stride)
    return _output_size(size, pool, stride, padding)
    # END SOLUTION


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Zero padding that TensorFlow adds on one axis for padding="same".

    Args:
        size: input size along the axis.
        kernel: kernel size along the axis.
        stride: step between windows.
        dilation: dilation rate.

    Returns:
        (before, after): the numbers of zero rows or columns added before and after.
    """
    # BEGIN SOLUTION
    # The total depends on the stride, not just on the kernel: it is what the last window needs
    # to end at the input's edge (never negative), and TF puts the odd pixel after, not before.
    size = _positive_int("size", size)
    kernel = _positive_int("kernel", kernel)
    stride = _positive_int("stride", stride)
    dilation = _positive_int("dilation", dilation)
    k = _effective_kernel(kernel, dilation)
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k - size, 0)
    before = total // 2
    return before, total - before
    # END SOLUTION


@dataclass(frozen=True)
class Layer:
    """One layer of the homework network.

    Attributes:
        kind: "conv" or "pool".
        filters: output channels of a conv; None for a pool (it keeps the channels).
        kernel: square kernel (conv) or pool window size.
        stride: step, the same on both axes.
        dilation: dilation rate (1 for plain convs and pools).
        padding: "valid" or "same".
        label: human description used in messages to students.
    """

    kind: str
    filters: int | None
    kernel: int
    stride: int
    dilation: int
    padding: str
    label: str

    def __post_init__(self):
        if self.kind not in ("conv", "pool"):
            raise ValueError(f"kind must be 'conv' or 'pool', got {self.kind!r}")
        if (self.kind == "conv") != (self.filters is not None):
            raise ValueError("a conv needs filters, a pool must have filters=None")


def _conv(filters: int, kernel: int, stride: int, padding: str, dilation: int = 1) -> Layer:
    if dilation == 1:
        label = f"Conv({filters}, {kernel}x{kernel}, s{stride}, {padding})"
    else:
        label = f"DilatedConv({filters}, {kernel}x{kernel}, s{stride}, d{dilation}, {padding})"
    return Layer("conv", filters, kernel, stride, dilation, padding, label)


def _pool(pool: int, stride: int) -> Layer:
    return Layer("pool", None, pool, stride, 1, "valid", f"MaxPool({pool}, s{stride})")


INPUT_SHAPE: tuple[int, int, int] = (256, 256, 3)

NETWORK: tuple[Layer, ...] = (
    _conv(64, 3, 1, "same"),
    _conv(32, 5, 2, "valid", dilation=2),
    _pool(2, 2),
    _conv(128, 3, 1, "same"),
    _conv(64, 5, 2, "valid", dilation=4),
    _pool(2, 2),
    _conv(256, 3, 1, "same"),
    _conv(128, 5, 2, "valid", dilation=8),
    _pool(2, 2),
)


def _layer_output_size(layer: Layer, size: int) -> int:
    if layer.kind == "conv":
        return conv_output_size(size, layer.kernel, layer.stride, layer.padding, layer.dilation)
    return pool_output_size(size, layer.kernel, layer.stride, layer.padding)


def layer_table(network, input_shape) -> list[tuple[tuple[int, int, int] | None, int]]:
    """Output shape and parameter count of every layer (the input is not a row).

    A layer whose output would be empty makes the network invalid from there
    on: its shape and all later shapes are None. Parameters are still counted,
    since they depend only on channels, which are carried through.

    Args:
        network: sequence of Layer.
        input_shape: (height, width, channels).

    Returns:
        One (output_shape or None, params) per layer.
    """
    h, w, channels = input_shape
    shape: tuple[int, int, int] | None = (h, w, channels)
    rows: list[tuple[tuple[int, int, int] | None, int]] = []
    for layer in network:
        if layer.kind == "conv":
            params = layer.kernel * layer.kernel * channels * layer.filters + layer.filters
            out_channels = layer.filters
        else:
            params = 0
            out_channels = channels
        if shape is not None:
            oh, ow = _layer_output_size(layer, shape[0]), _layer_output_size(layer, shape[1])
            shape = (oh, ow, out_channels) if oh > 0 and ow > 0 else None
        channels = out_channels
        rows.append((shape, params))
    return rows


LAYER_TABLE = layer_table(NETWORK, INPUT_SHAPE)  # SOLUTION: []
