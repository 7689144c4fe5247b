"""q6: the BatchNorm forward pass (graders/test_q6_batchnorm.py); known mistakes in mistakes.py, their judges
in judges.py, what they compute and the reference's answers in trusted.py."""

from graders.core.contract import constant, function
from graders.questions.declaration import Question
from graders.questions.q6.judges import JUDGES, Settings
from graders.questions.q6.mistakes import FC_BN_MISTAKES, MISTAKES

QUESTION = Question(
    id="q6", title="BatchNorm forward pass", grader="test_q6_batchnorm", reference="q6_batchnorm",
    contract=(function("batchnorm_forward", "(y, new_moving_mean, new_moving_var)"),
              constant("FC_BN_PARAMS", 'a dict {"fc": int, "bn_trainable": int, "bn_non_trainable": int}'),
              constant("Q6A_ANSWER", "an int, the number of the true statement")),
    free_text=("q6c",), mistakes={"batchnorm_forward": MISTAKES, "FC_BN_PARAMS": FC_BN_MISTAKES},
    settings=Settings, judges=JUDGES, trusted="graders.questions.q6.trusted", answer_checks=("fc_bn_params", "q6a"))
