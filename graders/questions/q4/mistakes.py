"""q4's known mistakes: each contract function done with one thing wrong; a failed check names the one that
gives the student's answers (graders/test_q4_params.py)."""

from graders.core.expect import KnownMistake


def _gate(input_dim, units):
    return units * (input_dim + units) + units


def _square_kernel_only(kernel_size, in_channels, filters, use_bias=True):
    return kernel_size * kernel_size * in_channels * filters + (filters if use_bias else 0)


def _first_side_squared(kernel_size, in_channels, filters, use_bias=True):
    side = kernel_size[0] if isinstance(kernel_size, (tuple, list)) else kernel_size
    return side * side * in_channels * filters + (filters if use_bias else 0)


def _kh_kw(kernel_size):
    return tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)


KNOWN_MISTAKES = {
    "conv2d_params": (
        KnownMistake("use_bias ignored", "the bias (one per filter) is counted even with use_bias=False",
                     lambda k, c, f, b=True: _kh_kw(k)[0] * _kh_kw(k)[1] * c * f + f),
        KnownMistake("no bias", "a Conv2D with use_bias=True has one bias per filter",
                     lambda k, c, f, b=True: _kh_kw(k)[0] * _kh_kw(k)[1] * c * f),
        KnownMistake("input channels left out", "each filter has a kh x kw kernel per input channel: "
                     "kh * kw * in_channels * filters weights", lambda k, c, f, b=True:
                     _kh_kw(k)[0] * _kh_kw(k)[1] * f + (f if b else 0)),
        KnownMistake("one side of the kernel squared", "a (kh, kw) kernel has kh * kw weights per input channel "
                     "and filter, not kh * kh", _first_side_squared),
    ),
    "dense_params": (
        KnownMistake("no bias", "a Dense layer has one bias per unit", lambda n, u: n * u),
        KnownMistake("a bias per input", "the bias is one per unit, not one per input", lambda n, u: n * u + n),
    ),
    "simple_rnn_params": (
        KnownMistake("no recurrent kernel", "a SimpleRNN also has a units x units recurrent kernel",
                     lambda d, u: u * d + u),
        KnownMistake("no bias", "a SimpleRNN has one bias per unit", lambda d, u: u * (d + u)),
    ),
    "lstm_params": (
        KnownMistake("no bias", "each of the 4 gates has one bias per unit", lambda d, u: 4 * u * (d + u)),
        KnownMistake("three gates", "an LSTM has 4 gates (input, forget, cell, output); 3 is a GRU",
                     lambda d, u: 3 * _gate(d, u)),
        KnownMistake("one gate", "an LSTM has 4 gates, each the size of a SimpleRNN", _gate),
    ),
    "gru_params": (
        KnownMistake("reset_after ignored", "with reset_after=True (Keras' default) the recurrent kernel has its "
                     "own bias: 3 * units more", lambda d, u, r=True: 3 * _gate(d, u)),
        KnownMistake("second bias always counted", "with reset_after=False there is one bias per gate; the "
                     "second bias (3 * units) exists only with reset_after=True",
                     lambda d, u, r=True: 3 * _gate(d, u) + 3 * u),
        KnownMistake("four gates", "a GRU has 3 gates (update, reset, candidate); 4 is an LSTM",
                     lambda d, u, r=True: 4 * _gate(d, u) + (4 * u if r else 0)),
    ),
}
