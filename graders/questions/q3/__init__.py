"""q3: fix the handed-out broken Keras regressor (graders/test_q3_regressor.py); the judges of its checks and
its rubric settings in judges.py."""

from graders.core.contract import function
from graders.questions.declaration import HandedOut, Question
from graders.questions.q3.judges import JUDGES, Settings

QUESTION = Question(
    id="q3", title="Fixed regressor", grader="test_q3_regressor", reference="q3_regressor",
    contract=(function("preprocess", "(Xtr, Xte), scaled by a scaler fitted on X_train only"),
              function("build_regressor", "a compiled keras.Model")),
    handed_out=(HandedOut("broken_preprocess", "preprocess"), HandedOut("broken_build_regressor", "build_regressor")),
    probe="q3", settings=Settings, judges=JUDGES, trusted="graders.questions.q3.trusted")
