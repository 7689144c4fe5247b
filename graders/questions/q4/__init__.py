"""q4: parameter counts of CNN and RNN layers (graders/test_q4_params.py); known mistakes in mistakes.py,
what they compute and the reference's counts in trusted.py."""

from graders.core.contract import function
from graders.questions.declaration import Question
from graders.questions.q4.judges import JUDGES, Settings
from graders.questions.q4.mistakes import MISTAKES

QUESTION = Question(
    id="q4", title="CNN vs RNN parameter counts", grader="test_q4_params", reference="q4_params",
    contract=tuple(function(name, "an int") for name in
                   ("conv2d_params", "dense_params", "simple_rnn_params", "lstm_params", "gru_params")),
    free_text=("q4a",), mistakes=MISTAKES, settings=Settings, judges=JUDGES, trusted="graders.questions.q4.trusted")
