"""q4's known mistakes, as students are told about them; what each one computes is trusted code
(trusted.py), so the student kit holds their names and explanations only."""

from graders.core.expect import Mistake

MISTAKES = {
    "conv2d_params": (
        Mistake("use_bias ignored", "the bias (one per filter) is counted even with use_bias=False", loses=("conv2d",)),
        Mistake("no bias", "a Conv2D with use_bias=True has one bias per filter", loses=("conv2d",)),
        Mistake(
            "input channels left out",
            "each filter has a kh x kw kernel per input channel: kh * kw * in_channels * filters weights",
            loses=("conv2d",),
        ),
        Mistake(
            "one side of the kernel squared",
            "a (kh, kw) kernel has kh * kw weights per input channel and filter, not kh * kh",
            loses=("conv2d",),
        ),
    ),
    "dense_params": (
        Mistake("no bias", "a Dense layer has one bias per unit", loses=("dense",)),
        Mistake("a bias per input", "the bias is one per unit, not one per input", loses=("dense",)),
    ),
    "simple_rnn_params": (
        Mistake("no recurrent kernel", "a SimpleRNN also has a units x units recurrent kernel", loses=("simple_rnn",)),
        Mistake("no bias", "a SimpleRNN has one bias per unit", loses=("simple_rnn",)),
    ),
    "lstm_params": (
        Mistake("no bias", "each of the 4 gates has one bias per unit", loses=("lstm",)),
        Mistake("three gates", "an LSTM has 4 gates (input, forget, cell, output); 3 is a GRU", loses=("lstm",)),
        Mistake("one gate", "an LSTM has 4 gates, each the size of a SimpleRNN", loses=("lstm",)),
    ),
    "gru_params": (
        Mistake(
            "reset_after ignored",
            "with reset_after=True (Keras' default) the recurrent kernel has its own bias: 3 * units more",
            loses=("gru.reset_after",),
        ),
        Mistake(
            "second bias always counted",
            "with reset_after=False there is one bias per gate; the second bias "
            "(3 * units) exists only with reset_after=True",
            loses=("gru.reset_before",),
        ),
        Mistake(
            "four gates",
            "a GRU has 3 gates (update, reset, candidate); 4 is an LSTM",
            loses=("gru.reset_after", "gru.reset_before"),
        ),
    ),
}
