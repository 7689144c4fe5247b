"""q7: Grad-CAM on an MNIST CNN, and the CNN itself.

The student's `grad_cam(model, image, layer_name, class_index)` is called on the grader's own trained
CNN (graders/questions/q7/grader_model.py: not the homework's answer; BatchNormalization and Dropout;
a Dense softmax at the end), a fresh copy for every call, with
- `image`: float32, shape (28, 28, 1), pixels in [0, 1] (the model's input without the batch axis);
- `layer_name`: the last Conv2D layer ("conv3", 10 x 10), and for some digits another one ("conv2");
- `class_index`: None for the predicted class (or left out: its default), by number the runner-up,
  class 0 and a class ranked third or lower (the cases: graders/questions/q7/trusted.py select_cases).
Maps may be the layer's size or the image's (28 x 28), with or without singleton axes; they are
compared with the reference's on the image grid. Each step of Grad-CAM has its own check, observed
here (graders/questions/q7/observations.py) and judged from the rubric (graders/questions/q7/judges.py):
the logit (`logit`), the layer and the pooled gradients (`correlation`, `top_overlap`), the ReLU
(`nonnegative`), the normalisation (`normalised`), class_index (`class_sensitivity`), layer_name
(`layer_name`), the weights (`randomisation`). Pictures for the report: details["images"] of
q7.heatmap.correlation and q7.heatmap.randomisation, each {"title", "png_base64"}.
"""

import concurrent.futures
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from graders.core.compare import as_array, as_int
from graders.core.errors import NotAttempted, StudentException, SubmissionError, WrongType
from graders.questions.q7 import grader_model, observations, pictures
from graders.questions.q7.cases import Setup
from graders.questions.q7.judges import Settings

Q = "q7"
CALL_CONTRACT = ("the grader calls grad_cam(model, image, layer_name, class_index) on a Functional model, with image "
                 "a float32 array of shape (28, 28, 1) (no batch axis: add it yourself), layer_name the name of a "
                 "Conv2D layer and class_index None (explain the predicted class) or an int")


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section(Q, Settings)


@dataclass
class Graded:
    """The trusted side of q7: the cases and maps to compare with, the test digits, the grader's model files."""

    setup: Setup
    images: np.ndarray  # the whole test split, model input format
    labels: np.ndarray
    models: dict[str, Path]

    @property
    def grid(self) -> tuple[int, int]:
        return tuple(self.images.shape[1:3])  # the image: (28, 28)

    def digit(self, digit: int) -> str:
        return f"digit #{digit} (label {self.labels[digit]})"

    def descriptions(self) -> list[str]:
        """How each graded case is named in a message."""
        def described(case) -> str:
            notes = ([] if case.role == "class 0" else [case.role]) + (["class_index left out"] if case.by_default
                                                                        else [])
            return f"{self.digit(case.digit)}, class {case.class_index}" + (f" ({', '.join(notes)})" if notes else "")

        return [described(case) for case in self.setup.cases]


def trusted_setup(trusted, mnist, seed: int, settings: Settings) -> Graded:
    """The grader's model files (trained once per grader version) and the trusted side's value for this seed."""
    models = grader_model.model_paths()
    value = trusted.value(Q, "setup", seed=seed, images=mnist.x_test, labels=mnist.y_test, **settings.selection())
    return Graded(Setup.from_plain(value), grader_model.as_model_input(mnist.x_test), mnist.y_test, models)


@pytest.fixture(scope="module")
def graded(trusted, mnist, seed, settings, student) -> Graded:
    """The trusted side, computed in a helper thread while this thread starts the student's worker.

    Both processes may import TensorFlow (~4 s each), which overlaps on two cores. The worker must be
    started from this long-lived thread: bubblewrap's --die-with-parent kills it as soon as the thread
    that spawned it ends.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        computed = pool.submit(trusted_setup, trusted, mnist, seed, settings)
        try:
            student.probe(Q, "ready")
        except SubmissionError:
            pass  # the checks that call the student report it
        return computed.result()


@dataclass
class Answers:
    """What the student's grad_cam returned (as returned), by the part of the grading that asked."""

    main: list = field(default_factory=list)  # the graded cases, at the last convolution
    layer: list = field(default_factory=list)  # the layer digits, at the other layer
    trained: list = field(default_factory=list)  # the randomisation digits, on the trained model
    randomised: list = field(default_factory=list)  # the same, on the model with a random classifier
    training_calls: int = 0  # main-case calls that ran the model in training mode


def ask_student(student, settings: Settings, graded: Graded) -> Answers:
    """Every grad_cam call of q7 in one probe (each call on a fresh copy of the model).

    Raises:
        SubmissionError: a call failed, timed out, or the probe's reply is malformed.
    """
    setup = graded.setup
    selection = setup.selection
    randomisation = list(zip(selection.random_digits, selection.random_classes))
    parts = {"main": [("trained", c.digit, setup.layer, c.asked, c.by_default) for c in setup.cases],
             "layer": [("trained", d, setup.other_layer, None, False) for d in selection.layer_digits],
             "trained": [("trained", d, setup.layer, c, False) for d, c in randomisation],
             "randomised": [("randomised", d, setup.layer, c, False) for d, c in randomisation]}
    digits = sorted({request[1] for requests in parts.values() for request in requests})
    position = {d: i for i, d in enumerate(digits)}
    requests = [[model, position[d], layer, asked, default] for part in parts.values()
                for model, d, layer, asked, default in part]
    try:
        reply = student.probe(Q, "grad_cam_maps", needs=("grad_cam",), timeout=settings.gradcam_timeout_s,
                              models={name: student.share_file(path) for name, path in graded.models.items()},
                              images=graded.images[digits], requests=requests)
    except NotAttempted:  # the starter's stub: say which function, like a direct call would
        raise NotAttempted("`grad_cam(...)` raises NotImplementedError") from None
    except StudentException as exc:
        raise StudentException(f"{exc}\nNote: {CALL_CONTRACT}") from None
    returned, training = (reply.get(key) if isinstance(reply, dict) else None for key in ("maps", "training"))
    if not isinstance(returned, list) or len(returned) != len(requests) or not isinstance(training, list):
        raise WrongType(f"the grader's grad_cam calls returned {type(returned).__name__}, not one map per call")
    answers, start = Answers(), 0
    for name, part in parts.items():
        setattr(answers, name, [as_array(value, what=f"grad_cam(...) for {_what(graded, request)}")
                                for value, request in zip(returned[start:start + len(part)], part)])
        start += len(part)
    answers.training_calls = sum(bool(flag) for flag in training[:len(parts["main"])])
    return answers


def _what(graded: Graded, request) -> str:
    model, digit, layer, asked, by_default = request
    return (f"{graded.digit(digit)}, layer {layer}, " + ("class_index left out" if by_default else f"class_index={asked}")
            + ("" if model == "trained" else " (randomised model)"))


@pytest.fixture(scope="module")
def answers(student, settings, graded) -> Answers:
    return ask_student(student, settings, graded)


def as_2d(array: np.ndarray, what: str) -> np.ndarray:
    """The map without singleton axes, NaN and inf as 0 (a map of 0/0 is then a constant map).

    Raises:
        WrongType: when it is not a 2-D map once the singleton axes are dropped.
    """
    squeezed = np.squeeze(np.asarray(array, dtype=np.float64))
    if squeezed.ndim != 2:
        raise WrongType(f"grad_cam(...) for {what} returned shape {np.shape(array)}; expected a 2-D heatmap")
    return np.nan_to_num(squeezed, nan=0.0, posinf=0.0, neginf=0.0)


def student_maps(answers: Answers, graded: Graded) -> observations.StudentMaps:
    """The student's maps of the graded cases (2-D), with what every heatmap check computes from them."""
    descriptions = graded.descriptions()
    maps = [as_2d(array, descriptions[i]) for i, array in enumerate(answers.main)]
    return observations.StudentMaps(maps, graded.setup, graded.grid, descriptions,
                                    training_calls=answers.training_calls)


@pytest.fixture(scope="module")
def maps(answers, graded) -> observations.StudentMaps:
    return student_maps(answers, graded)


# -- the CNN (first: before any file of the grader's CNN, a trained MNIST classifier, is shared with the worker)

@pytest.mark.check("q7.cnn.train")
def test_cnn_trains(student, mnist, settings, check):
    try:
        result = student.probe(Q, "train_cnn", needs=("build_mnist_cnn",), timeout=settings.cnn_timeout_s,
                               x_train=grader_model.as_model_input(mnist.x_train), y_train=mnist.y_train,
                               x_test=grader_model.as_model_input(mnist.x_test), epochs=settings.cnn_epochs,
                               batch_size=settings.cnn_batch_size)
    except NotAttempted:  # the starter's stub: say which function, like a direct call would
        raise NotAttempted("`build_mnist_cnn(...)` raises NotImplementedError") from None
    if not isinstance(result, dict):
        raise WrongType(f"the grader's training probe returned {type(result).__name__}")
    model = described_model(result)
    if model["one_hot_loss"]:
        check.observe("cnn_train", model=model)  # not trained: the contract's labels are integers
        return
    scores = as_array(result.get("scores"), what="the model's outputs on the test digits")
    if scores.shape != (len(mnist.y_test), 10):
        raise WrongType(f"the model's outputs on the test digits have shape {scores.shape}; expected "
                        f"({len(mnist.y_test)}, 10)")
    finite = np.all(np.isfinite(scores), axis=1)
    accuracy = float(np.mean(finite & (np.argmax(np.nan_to_num(scores), axis=1) == mnist.y_test)))  # in the grader
    check.observe("cnn_train", model=model, accuracy=accuracy, nonfinite=int((~finite).sum()),
                  epochs=settings.cnn_epochs, n_train=len(mnist.y_train))


def described_model(result: dict) -> dict:
    """The training probe's description of the student's model, as plain values of known types."""
    def text(key):
        value = result.get(key)
        return None if value is None else str(value)[:200]

    def number(key):
        value = result.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def flag(key):
        value = result.get(key)
        return value if isinstance(value, bool) else None

    return {"params": as_int(result.get("params"), what="parameter count"), "kind": text("kind"),
            "loss": text("loss"), "one_hot_loss": bool(flag("one_hot_loss")), "optimizer": text("optimizer"),
            "output_activation": text("output_activation"), "from_logits": flag("from_logits"),
            "learning_rate": number("learning_rate"), "momentum": number("momentum"),
            "input_scale": number("input_scale")}


# -- the heatmap checks ---------------------------------------------------------------------

@pytest.fixture
def noted(graded, check) -> None:
    """Where this seed's case selection had to widen its pool or relax a criterion, in the check's details."""
    if graded.setup.selection.notes:
        check.details["case_selection"] = graded.setup.selection.notes


@pytest.mark.check("q7.heatmap.shape")
def test_heatmap_shape(answers, graded, check, noted):
    check.observe("shape", **observations.shapes([np.shape(a) for a in answers.main], graded.setup,
                                                 graded.descriptions(), grid=graded.grid))


@pytest.mark.check("q7.heatmap.nonnegative")
def test_heatmap_nonnegative(maps, check, noted):
    check.observe("nonnegative", **maps.nonnegative())


@pytest.mark.check("q7.heatmap.normalised")
def test_heatmap_normalised(maps, check, noted):
    check.observe("normalised", **maps.normalised())


@pytest.mark.check("q7.heatmap.logit")
def test_heatmap_uses_logit(maps, check, noted):
    check.observe("logit", **maps.logit())


@pytest.mark.check("q7.heatmap.correlation")
def test_heatmap_correlation(maps, graded, check, noted):
    scores = {i: maps.similarities[i]["r"] for i in maps.predicted}
    check.details["images"] = pictures.digit_overlays(graded.setup.cases, graded.images, graded.labels,
                                                      graded.setup.variants["correct"], maps.maps, scores)
    check.observe("correlation", **maps.correlation())


@pytest.mark.check("q7.heatmap.top_overlap")
def test_heatmap_top_overlap(maps, settings, check, noted):
    check.observe("top_overlap", **maps.top_overlap(settings.top_fraction))


@pytest.mark.check("q7.heatmap.class_sensitivity")
def test_heatmap_class_sensitivity(maps, check, noted):
    check.observe("class_sensitivity", **maps.class_sensitivity())


@pytest.mark.check("q7.heatmap.layer_name")
def test_heatmap_layer_name(answers, maps, graded, check, noted):
    names = [f"{graded.digit(d)}, class_index=None" for d in graded.setup.selection.layer_digits]
    layer_maps = [as_2d(array, f"{name}, layer_name={graded.setup.other_layer!r}")
                  for array, name in zip(answers.layer, names)]
    check.observe("layer_name", **maps.layer_name(layer_maps, names))


@pytest.mark.check("q7.heatmap.randomisation")
def test_heatmap_randomisation(answers, maps, graded, check, noted):
    selection = graded.setup.selection
    names = [f"{graded.digit(d)}, class {c}" for d, c in zip(selection.random_digits, selection.random_classes)]
    trained = [as_2d(array, f"{name} (trained model)") for array, name in zip(answers.trained, names)]
    randomised = [as_2d(array, f"{name} (randomised model)") for array, name in zip(answers.randomised, names)]
    observed = observations.randomisation(trained, randomised, names, grid=graded.grid)
    rows = [(f"#{d}, class {c}", graded.images[d, ..., 0], [("trained", t), (f"randomised r={v:.2f}", r)])
            for d, c, t, r, v in zip(selection.random_digits, selection.random_classes, trained, randomised,
                                     observed["r"])]
    check.details["images"] = [{"title": "your heatmaps on the trained model and on a copy with a random classifier; "
                                         + pictures.caption(rows), "png_base64": pictures.overlay_png(rows)}]
    check.observe("randomisation", **observed, diagnosis=maps.diagnosis.to_plain())
