"""q5's trusted computations (graders/core/trusted.py): the reference's answers and what each known
mistake answers on the grader's cases. With the other questions' trusted modules, the only code of the
grader that imports reference/; the student kit holds their recorded values for the public seed's
cases, and never `layer_table`, an answer whatever the seed."""

import math

from graders.core.expect import mistakes_computation
from reference import q5_shapes as ref


def _formula(*, plus_one=True, rounding=math.floor, dilation="right", stride_in_valid=True, same="ceil"):
    """conv_output_size done one way; the defaults are right."""
    def output_size(size, kernel, stride=1, padding="valid", dilation_rate=1):
        if str(padding).lower() == "same":
            return {"ceil": math.ceil(size / stride), "floor": size // stride, "size": size,
                    "valid": output_size(size, kernel, stride, "valid", dilation_rate)}[same]
        k = {"right": dilation_rate * (kernel - 1) + 1, "ignored": kernel, "times": dilation_rate * kernel}[dilation]
        step = stride if stride_in_valid else 1
        return int(rounding((size - k) / step)) + (1 if plus_one else 0)

    return output_size


def _pool_formula(**kwargs):
    conv_formula = _formula(**{key: value for key, value in kwargs.items() if key != "default_stride"})

    def output_size(size, pool_size, stride=None, padding="valid"):
        if stride is None:
            stride = pool_size if kwargs.get("default_stride", "pool") == "pool" else 1
        return conv_formula(size, pool_size, stride, padding)

    return output_size


def _pool_no_overlap(size, pool_size, stride=None, padding="valid"):
    stride = stride or pool_size
    return math.ceil(size / stride) if padding == "same" else size // stride


def _padding_formula(*, clamp=True, stride="right", odd="after", dilation=True):
    def same_padding(size, kernel, stride_=1, dilation_rate=1):
        k = dilation_rate * (kernel - 1) + 1 if dilation else kernel
        if stride == "ignored":
            total = k - 1
        else:
            total = (math.ceil(size / stride_) - 1) * stride_ + k - size
        total = max(total, 0) if clamp else total
        small, large = total // 2, total - total // 2
        return (small, large) if odd == "after" else (large, small)

    return same_padding




FUNCTIONS = {
    "conv_output_size": {
        'no +1': _formula(plus_one=False),
        'rounded up': _formula(rounding=math.ceil),
        'stride ignored': _formula(stride_in_valid=False),
        'dilation ignored': _formula(dilation='ignored'),
        'dilated kernel as d * k': _formula(dilation='times'),
        "'same' rounded down": _formula(same='floor'),
        "'same' ignores the stride": _formula(same='size'),
        "'same' computed like 'valid'": _formula(same='valid'),
    },
    "pool_output_size": {
        'windows assumed not to overlap': _pool_no_overlap,
        'default stride 1': _pool_formula(default_stride='one'),
        'no +1': _pool_formula(plus_one=False),
        'rounded up': _pool_formula(rounding=math.ceil),
        "'same' rounded down": _pool_formula(same='floor'),
        "'same' computed like 'valid'": _pool_formula(same='valid'),
    },
    "same_padding": {
        'the stride-1 rule': _padding_formula(stride='ignored'),
        'negative padding': _padding_formula(clamp=False),
        'odd pixel before': _padding_formula(odd='before'),
        'dilation ignored': _padding_formula(dilation=False),
    },
}


def _network() -> dict:
    """The network whose table students fill in (the question's text, not an answer): its input shape, each
    layer's label and its hyperparameters (the starter's table)."""
    return {"input_shape": ref.INPUT_SHAPE, "layers": [layer.label for layer in ref.NETWORK],
            "specs": [{"filters": layer.filters, "kernel": layer.kernel, "stride": layer.stride,
                       "dilation": layer.dilation, "padding": layer.padding} for layer in ref.NETWORK]}


def _table_with(conv, pool, params) -> list:
    """The layer table computed with these formulas (a known mistake's table when one of them is wrong)."""
    height, width, channels = ref.INPUT_SHAPE
    shape, rows = (height, width, channels), []
    for layer in ref.NETWORK:
        size = conv if layer.kind == "conv" else pool
        arguments = (layer.kernel, layer.stride, layer.padding) + ((layer.dilation,) if layer.kind == "conv" else ())
        out_channels = layer.filters if layer.kind == "conv" else channels
        count = params(layer.kernel, channels, layer.filters) if layer.kind == "conv" else 0
        if shape is not None:
            try:
                sides = [size(side, *arguments) for side in shape[:2]]
            except Exception:  # noqa: BLE001 - a formula that cannot run here gives no table
                return []
            shape = (*sides, out_channels) if min(sides) > 0 else None
        channels = out_channels
        rows.append((shape, count))
    return rows


def _conv_params(kernel, channels, filters):
    return kernel * kernel * channels * filters + filters


def _mistaken_tables() -> dict:
    """{mistake name: the table it gives}: conv and pool size mistakes, and parameter count mistakes."""
    right = (ref.conv_output_size, ref.pool_output_size, _conv_params)
    tables = {f"conv: {name}": _table_with(function, right[1], right[2])
              for name, function in FUNCTIONS["conv_output_size"].items()}
    tables.update({f"pooling: {name}": _table_with(right[0], function, right[2])
                   for name, function in FUNCTIONS["pool_output_size"].items()})
    tables["no bias"] = _table_with(right[0], right[1], lambda k, c, f: k * k * c * f)
    tables["input channels left out"] = _table_with(right[0], right[1], lambda k, c, f: k * k * f + f)
    return tables


COMPUTE = {
    "conv_output_size": ref.conv_output_size,
    "pool_output_size": ref.pool_output_size,
    "same_padding": ref.same_padding,
    **{f"mistakes.{name}": mistakes_computation(functions) for name, functions in FUNCTIONS.items()},
    "network": _network,
    "layer_table": lambda: [tuple(row) for row in ref.LAYER_TABLE],
    "mistakes.layer_table": _mistaken_tables,
}
ANSWERS = frozenset({"layer_table", "mistakes.layer_table"})  # seed-independent: never recorded for the kit
