"""q5's known mistakes, as students are told about them; what each one computes is trusted code
(trusted.py), so the student kit holds their names and explanations only."""

from graders.core.expect import Mistake

VALID_ROUNDING = "(size - k) / stride is rounded down: floor((size - k) / stride) + 1"
MISTAKES = {
    "conv_output_size": (
        Mistake(
            "no +1",
            "'valid' gives floor((size - k) / stride) + 1 windows: the first window counts too",
            loses=("conv.valid", "conv.strided", "conv.dilated"),
        ),
        Mistake("rounded up", VALID_ROUNDING, loses=("conv.strided", "conv.dilated")),
        Mistake(
            "stride ignored",
            "with 'valid', a stride s keeps every s-th window: floor((size - k) / s) + 1",
            loses=("conv.strided", "conv.dilated"),
        ),
        Mistake("dilation ignored", "a dilated kernel spans d * (k - 1) + 1 pixels", loses=("conv.dilated",)),
        Mistake(
            "dilated kernel as d * k",
            "a dilated kernel spans d * (k - 1) + 1 pixels, not d * k",
            loses=("conv.dilated",),
        ),
        Mistake(
            "'same' rounded down",
            "'same' gives ceil(size / stride): a last, partial window counts",
            loses=("conv.same",),
        ),
        Mistake(
            "'same' ignores the stride",
            "'same' gives ceil(size / stride), the input size only for stride 1",
            loses=("conv.same",),
        ),
        Mistake(
            "'same' computed like 'valid'",
            "'same' pads the input: the output is ceil(size / stride) whatever the kernel",
            loses=("conv.same",),
        ),
    ),
    "pool_output_size": (
        Mistake(
            "windows assumed not to overlap",
            "size // stride is right only when pool == stride; 'valid' pooling gives floor((size - pool) / stride) + 1",
            loses=("pool.overlapping",),
        ),
        Mistake("default stride 1", "Keras' pooling stride defaults to the pool size", loses=("pool.default_stride",)),
        Mistake(
            "no +1",
            "'valid' gives floor((size - pool) / stride) + 1 windows",
            loses=("pool.default_stride", "pool.overlapping"),
        ),
        Mistake("rounded up", VALID_ROUNDING.replace("k", "pool"), loses=("pool.default_stride", "pool.overlapping")),
        Mistake("'same' rounded down", "'same' gives ceil(size / stride)", loses=("pool.same",)),
        Mistake(
            "'same' computed like 'valid'",
            "'same' pads the input: the output is ceil(size / stride)",
            loses=("pool.same",),
        ),
    ),
    "same_padding": (
        Mistake(
            "the stride-1 rule",
            "the total padding is d * (k - 1) only for stride 1; with a stride it is what the last window needs: (ceil(size / s) - 1) * s + k_eff - size",
            loses=("same_padding.strided",),
        ),
        Mistake(
            "negative padding",
            "when the windows skip pixels the formula goes below 0; the padding is then 0 (max(0, ...)), never negative",
            loses=("same_padding.strided",),
        ),
        Mistake(
            "odd pixel before",
            "for an odd total TensorFlow puts the extra pixel after: (total // 2, total - total // 2)",
            loses=("same_padding.stride1", "same_padding.strided"),
        ),
        Mistake(
            "dilation ignored",
            "a dilated kernel spans d * (k - 1) + 1 pixels",
            loses=("same_padding.stride1", "same_padding.strided"),
        ),
    ),
}
# The table's rows, computed with one of the size mistakes above or a wrong parameter count.
MISTAKES["layer_table"] = (
    *(Mistake(f"conv: {m.name}", m.explanation) for m in MISTAKES["conv_output_size"]),
    *(Mistake(f"pooling: {m.name}", m.explanation) for m in MISTAKES["pool_output_size"]),
    Mistake("no bias", "a Conv2D has one bias per filter: kh * kw * in_channels * filters + filters"),
    Mistake(
        "input channels left out",
        "each filter has a kh x kw kernel per input channel: kh * kw * in_channels "
        "* filters weights, in_channels being the previous layer's output channels",
    ),
)
