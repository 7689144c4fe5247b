"""q5: convolution and pooling output shapes, and the layer table (graders/test_q5_shapes.py); known mistakes
in mistakes.py, what they compute and the reference's answers in trusted.py."""

from graders.core.contract import constant, function
from graders.questions.declaration import Question
from graders.questions.q5.judges import JUDGES, Settings
from graders.questions.q5.mistakes import MISTAKES

TABLE_ROWS = 9  # layers of the network students tabulate (its text: the trusted side's "network")


def _starter_values() -> dict[str, str]:
    """`$q5_network` and `$q5_input_shape`: the network whose LAYER_TABLE students fill, from the reference."""
    from reference import q5_shapes  # the network is part of the reference (the starter is built by the TA)

    rows = "\n".join(f"| {n} | {layer.label} | {layer.filters or '–'} | {layer.kernel}×{layer.kernel} | "
                     f"{layer.stride} | {layer.dilation} | {layer.padding} |"
                     for n, layer in enumerate(q5_shapes.NETWORK, start=1))
    header = "| # | layer | filters | kernel | stride | dilation | padding |\n|---|---|---|---|---|---|---|\n"
    return {"q5_network": header + rows, "q5_input_shape": str(q5_shapes.INPUT_SHAPE)}


QUESTION = Question(
    id="q5", title="Convolution and pooling shapes", grader="test_q5_shapes", reference="q5_shapes",
    contract=(function("conv_output_size", "an int"), function("pool_output_size", "an int"),
              function("same_padding", "(before, after)"),
              constant("LAYER_TABLE", "a list of (output_shape or None, params) rows, one per layer")),
    mistakes=MISTAKES, starter_values=_starter_values, settings=Settings, judges=JUDGES,
    trusted="graders.questions.q5.trusted")
