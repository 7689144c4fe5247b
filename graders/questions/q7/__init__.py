"""q7: Grad-CAM on an MNIST CNN, and the CNN (graders/test_q7_gradcam.py). Helpers: the grader's own CNN that
grad_cam runs on (grader_model.py), the graded cases as data (cases.py), heatmap comparisons and the known
mistakes (heatmaps.py), what each check observes (observations.py) and how it is judged (judges.py), the
trusted side (trusted.py, with the case selection in selection.py), pictures (pictures.py), CNN training
hints (cnn_training.py)."""

from graders.core.contract import function
from graders.questions.declaration import Question
from graders.questions.q7.heatmaps import MISTAKES
from graders.questions.q7.judges import JUDGES, Settings

QUESTION = Question(
    id="q7", title="Grad-CAM on the MNIST CNN", grader="test_q7_gradcam", reference="q7_gradcam",
    contract=(function("build_mnist_cnn", "a compiled keras.Model"),
              function("grad_cam", "a 2-D array in [0, 1]")),
    probe="q7", mistakes={"grad_cam": MISTAKES}, settings=Settings, judges=JUDGES,
    trusted="graders.questions.q7.trusted")


def KIT_FILES() -> dict[str, str]:  # noqa: N802 - the name the kit builder reads (graders/kit/build.py)
    """The student kit ships the grader's own trained CNN and its randomised copy (never q7's answer): {path
    in the kit: the trained file}, built here when the cache has none."""
    from graders.questions.q7 import grader_model

    return {f"graders/questions/q7/{grader_model.SHIPPED[kind].name}": str(path)
            for kind, path in grader_model.model_paths().items()}
