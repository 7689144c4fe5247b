"""q7: Grad-CAM on the homework's MNIST CNN, and the CNN (graders/test_q7_gradcam.py). Helpers: heatmap
decisions and known mistakes (heatmaps.py), the graded cases and mistake maps (variants.py), the reference
model (reference_model.py), pictures (pictures.py), CNN training hints (cnn_training.py)."""

from graders.core.contract import function
from graders.questions.declaration import Question
from graders.questions.q7.heatmaps import MISTAKES

QUESTION = Question(
    id="q7", title="Grad-CAM on the MNIST CNN", grader="test_q7_gradcam", reference="q7_gradcam",
    contract=(function("build_mnist_cnn", "a compiled keras.Model"),
              function("grad_cam", "a 2-D array in [0, 1]")),
    probe="q7", mistakes={"grad_cam": MISTAKES})
