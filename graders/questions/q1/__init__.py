"""q1: a KerasTuner-tuned CNN on MNIST (graders/test_q1_tuner.py). Helpers: the search space (space.py),
its points (points.py), each hyperparameter's effect (effects.py), training data and scores (training.py),
the messages about a model (diagnosis.py); the rubric's settings and the judges (judges.py); the
reference's accuracy at a reported point (trusted.py, the only q1 module that imports reference/)."""

from graders.core.contract import constant, function
from graders.questions.declaration import Question
from graders.questions.q1.judges import JUDGES, Settings
from graders.questions.q1.space import SPACE


def _starter_values() -> dict[str, str]:
    """`$q1_space`: the search space as a Markdown table."""
    rows = "\n".join(f"| `{family.label}` | {family.kind} | {family.text().partition(' ')[2]}"
                     f"{', one per ' + family.per.replace('_layers', ' layer') if family.per else ''} |"
                     for family in SPACE)
    return {"q1_space": "| name | type | values |\n|---|---|---|\n" + rows}


QUESTION = Question(
    id="q1", title="KerasTuner-tuned CNN on MNIST", grader="test_q1_tuner", reference="q1_tuner",
    contract=(function("build_model", "a compiled keras.Model"),
              function("make_tuner", "a keras_tuner.Hyperband"),
              constant("BEST_HYPERPARAMETERS", "a dict of the best hyperparameter values", optional=True),
              constant("BEST_VAL_ACCURACY", "a float, the best validation accuracy", optional=True)),
    free_text=("q1a",), probe="q1", starter_values=_starter_values, settings=Settings, judges=JUDGES,
    trusted="graders.questions.q1.trusted")
