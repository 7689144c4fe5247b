"""q5: convolution and pooling output shapes, and the layer table (graders/test_q5_shapes.py); known mistakes
in mistakes.py, what they compute and the reference's answers in trusted.py."""

from graders.core.contract import constant, function
from graders.core.trusted import ComputedSide
from graders.questions.declaration import Question
from graders.questions.q5.judges import JUDGES, Settings
from graders.questions.q5.mistakes import MISTAKES

TABLE_ROWS = 9  # layers of the network students tabulate (its text: the trusted side's "network")
TRUSTED = "graders.questions.q5.trusted"


def _starter_values() -> dict[str, str]:
    """`$q5_network` and `$q5_input_shape`: the network whose LAYER_TABLE students fill (the question's text),
    as the trusted side describes it (the starter is built by the TA, with the reference at hand)."""
    network = ComputedSide({"q5": TRUSTED}).value("q5", "network")
    rows = "\n".join(f"| {n} | {label} | {spec['filters'] or '–'} | {spec['kernel']}×{spec['kernel']} | "
                     f"{spec['stride']} | {spec['dilation']} | {spec['padding']} |"
                     for n, (label, spec) in enumerate(zip(network["layers"], network["specs"]), start=1))
    header = "| # | layer | filters | kernel | stride | dilation | padding |\n|---|---|---|---|---|---|---|\n"
    return {"q5_network": header + rows, "q5_input_shape": str(tuple(network["input_shape"]))}


QUESTION = Question(
    id="q5", title="Convolution and pooling shapes", grader="test_q5_shapes", reference="q5_shapes",
    contract=(function("conv_output_size", "an int"), function("pool_output_size", "an int"),
              function("same_padding", "(before, after)"),
              constant("LAYER_TABLE", "a list of (output_shape or None, params) rows, one per layer")),
    mistakes=MISTAKES, starter_values=_starter_values, settings=Settings, judges=JUDGES,
    trusted=TRUSTED, answer_checks=("table.layer*",))
