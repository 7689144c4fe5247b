"""A sample submission that does not parse (test data): every check scores 0 with the SyntaxError."""


def conv_output_size(size, kernel, stride=1, padding="valid", dilation=1:
    return (size - kernel) // stride + 1
