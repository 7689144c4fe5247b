"""q5's known mistakes: each contract function done with one thing wrong; a failed check names the one that
gives the student's answers (graders/test_q5_shapes.py)."""

import math

from graders.core.expect import KnownMistake


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


VALID_ROUNDING = "(size - k) / stride is rounded down: floor((size - k) / stride) + 1"
KNOWN_MISTAKES = {
    "conv_output_size": (
        KnownMistake("no +1", "'valid' gives floor((size - k) / stride) + 1 windows: the first window counts too",
                     _formula(plus_one=False)),
        KnownMistake("rounded up", VALID_ROUNDING, _formula(rounding=math.ceil)),
        KnownMistake("stride ignored", "with 'valid', a stride s keeps every s-th window: floor((size - k) / s) + 1",
                     _formula(stride_in_valid=False)),
        KnownMistake("dilation ignored", "a dilated kernel spans d * (k - 1) + 1 pixels", _formula(dilation="ignored")),
        KnownMistake("dilated kernel as d * k", "a dilated kernel spans d * (k - 1) + 1 pixels, not d * k",
                     _formula(dilation="times")),
        KnownMistake("'same' rounded down", "'same' gives ceil(size / stride): a last, partial window counts",
                     _formula(same="floor")),
        KnownMistake("'same' ignores the stride", "'same' gives ceil(size / stride), the input size only for "
                     "stride 1", _formula(same="size")),
        KnownMistake("'same' computed like 'valid'", "'same' pads the input: the output is ceil(size / stride) "
                     "whatever the kernel", _formula(same="valid")),
    ),
    "pool_output_size": (
        KnownMistake("windows assumed not to overlap", "size // stride is right only when pool == stride; 'valid' "
                     "pooling gives floor((size - pool) / stride) + 1", _pool_no_overlap),
        KnownMistake("default stride 1", "Keras' pooling stride defaults to the pool size", _pool_formula(
                     default_stride="one")),
        KnownMistake("no +1", "'valid' gives floor((size - pool) / stride) + 1 windows", _pool_formula(plus_one=False)),
        KnownMistake("rounded up", VALID_ROUNDING.replace("k", "pool"), _pool_formula(rounding=math.ceil)),
        KnownMistake("'same' rounded down", "'same' gives ceil(size / stride)", _pool_formula(same="floor")),
        KnownMistake("'same' computed like 'valid'", "'same' pads the input: the output is ceil(size / stride)",
                     _pool_formula(same="valid")),
    ),
    "same_padding": (
        KnownMistake("the stride-1 rule", "the total padding is d * (k - 1) only for stride 1; with a stride it is "
                     "what the last window needs: (ceil(size / s) - 1) * s + k_eff - size", _padding_formula(
                         stride="ignored")),
        KnownMistake("negative padding", "when the windows skip pixels the formula goes below 0; the padding is then "
                     "0 (max(0, ...)), never negative", _padding_formula(clamp=False)),
        KnownMistake("odd pixel before", "for an odd total TensorFlow puts the extra pixel after: (total // 2, "
                     "total - total // 2)", _padding_formula(odd="before")),
        KnownMistake("dilation ignored", "a dilated kernel spans d * (k - 1) + 1 pixels",
                     _padding_formula(dilation=False)),
    ),
}
