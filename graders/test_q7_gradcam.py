"""q7: Grad-CAM on the homework's MNIST CNN, and the CNN itself.

The student's `grad_cam(model, image, layer_name, class_index)` is called on the grader's
trained reference CNN, a Functional model loaded fresh from a .keras file for every call, with
- `image`: float32, shape (28, 28, 1), pixels in [0, 1] (the model's input without the batch axis);
- `layer_name`: the name of the last Conv2D layer ("conv3");
- `class_index`: None for the predicted class; by number the runner-up, class 0 and a class
  ranked third or lower (graders.questions.q7.variants.select_cases).
Maps may be the layer's size (6 x 6) or the image's (28 x 28), with or without singleton axes (a
batch or channel axis is the same answer); they are compared with the reference's on the 28 x 28
image grid. Each step of Grad-CAM has its own check, decided by graders.questions.q7.heatmaps
.HeatmapJudge on the inputs where its mistake shows: the logit (`logit`), the layer and the pooled
gradients (`correlation`, `top_overlap`), the ReLU (`nonnegative`), the normalisation
(`normalised`), class_index (`class_sensitivity`). Pictures for the report: details["images"] of
q7.heatmap.correlation (one PNG per graded digit) and of q7.heatmap.randomisation, each
{"title", "png_base64"}; the report names the matched mistake.
"""

import concurrent.futures
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from graders.core.compare import as_array, as_int
from graders.core.errors import NotAttempted, StudentException, SubmissionError, WrongType, require
from graders.questions.q7 import cnn_training, heatmaps, pictures, reference_model, variants

Q = "q7"
REFERENCE_PARAMS = 130_890
NO_SOFTMAX = "no softmax on the last layer while the loss expects probabilities"
CALL_CONTRACT = ("the grader calls grad_cam(model, image, layer_name, class_index) on a Functional model, with image "
                 "a float32 array of shape (28, 28, 1) (no batch axis: add it yourself), layer_name the name of "
                 "the last Conv2D layer and class_index None (explain the predicted class) or an int")


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q7] (the spreads each threshold was calibrated on are recorded there)."""

    reference_cnn_epochs: int
    reference_cnn_batch_size: int
    gradcam_digits_clear: int
    gradcam_digits_ambiguous: int
    gradcam_digits_negative: int
    gradcam_digits_randomisation: int
    gradcam_min_positive_cells: int
    class_distinct_max: float
    negative_evidence_max_r: float
    gradcam_timeout_s: float
    negative_tol: float
    max_tol: float
    upsampled_negative_tol: float
    upsampled_peak_range: tuple
    negative_evidence_margin: float
    negative_evidence_min_r: float
    top_fraction: float
    min_map_correlation: float
    min_top_overlap: float
    class_margin: float
    random_max_correlation: float
    cnn_epochs: int
    cnn_batch_size: int
    cnn_min_accuracy: float
    cnn_timeout_s: float
    cnn_likely_causes: tuple


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section(Q, Settings)


@dataclass
class Setup:
    """The trusted side of q7: the models' files, the test digits, and the reference's maps."""

    model_path: Path
    random_path: Path
    images: np.ndarray  # the whole test split, model input format
    labels: np.ndarray
    reference: variants.ReferenceMaps

    @property
    def cases(self):
        return self.reference.selection.cases

    @property
    def layer(self):
        return self.reference.layer

    @property
    def grid(self) -> tuple[int, int]:
        return tuple(self.images.shape[1:3])  # the image: (28, 28)

    def describe(self, index: int) -> str:
        case = self.cases[index]
        role = "" if case.role == "class 0" else f" ({case.role})"
        return f"digit #{case.digit} (label {self.labels[case.digit]}), class {case.class_index}{role}"


def selection_settings(settings: Settings) -> dict:
    """The keyword arguments of variants.select_cases, from the rubric."""
    return {"n_clear": settings.gradcam_digits_clear, "n_ambiguous": settings.gradcam_digits_ambiguous,
            "n_negative": settings.gradcam_digits_negative, "n_random": settings.gradcam_digits_randomisation,
            "min_positive": settings.gradcam_min_positive_cells, "class_distinct_max": settings.class_distinct_max,
            "negative_evidence_max_r": settings.negative_evidence_max_r}


def value_limits(settings: Settings, reference: variants.ReferenceMaps, grid) -> heatmaps.ValueLimits:
    """The values a map may hold (wider for a map upsampled to the image)."""
    return heatmaps.ValueLimits(
        negative_tol=settings.negative_tol, max_tol=settings.max_tol,
        upsampled_negative_tol=settings.upsampled_negative_tol,
        upsampled_peak_range=tuple(float(v) for v in settings.upsampled_peak_range),
        image_shape=tuple(grid), layer_shape=reference.layer_shapes[reference.layer])


@pytest.fixture(scope="module")
def setup(mnist, seed, settings, student) -> Setup:
    """The trusted side, computed in a helper thread while this thread starts the student's worker.

    Both processes first import TensorFlow (~4 s each), which overlaps on two cores. The worker
    must be started from this long-lived thread: bubblewrap's --die-with-parent kills it as soon
    as the thread that spawned it ends.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        trusted = pool.submit(_trusted_setup, mnist, seed, settings)
        try:
            student.probe(Q, "ready")
        except SubmissionError:
            pass  # the checks that call the student report it
        return trusted.result()


def _trusted_setup(mnist, seed, settings: Settings) -> Setup:
    budget = reference_model.Budget(settings.reference_cnn_epochs, settings.reference_cnn_batch_size)
    model_path = reference_model.trained_model_path(mnist.x_train, mnist.y_train, seed=seed, budget=budget)
    random_path = reference_model.randomised_head_path(model_path, seed=seed + 1)  # not the head it started from
    images = reference_model.as_model_input(mnist.x_test)
    selection = selection_settings(settings)

    def compute():
        rng = np.random.default_rng([seed, zlib.crc32(b"q7.cases")])
        return variants.reference_maps(reference_model.load(model_path), reference_model.load(random_path), images,
                                       mnist.y_test, rng, **selection).to_arrays()

    # Cached too: a warm grading needs no TensorFlow in this process. (The selection also uses
    # heatmaps. r; a change there that should move the cases needs a _CACHE_FORMAT bump.)
    key = reference_model.cache_key("reference-maps", model_path.stem, random_path.stem, seed,
                                    sorted(selection.items()), mnist.x_test, mnist.y_test,
                                    files=(Path(variants.__file__),))
    arrays = reference_model.cached_arrays("reference-maps", key, compute)
    return Setup(model_path, random_path, images, mnist.y_test, variants.ReferenceMaps.from_arrays(arrays))


def _student_maps(student, settings, path, images, layer, class_indices, what) -> list[np.ndarray]:
    try:
        raw = student.probe(Q, "grad_cam_maps", needs=("grad_cam",), timeout=settings.gradcam_timeout_s,
                            model_path=student.share_file(path), images=images, layer_name=layer,
                            class_indices=class_indices)
    except NotAttempted:  # the starter's stub: say which function, like a direct call would
        raise NotAttempted("`grad_cam(...)` raises NotImplementedError") from None
    except StudentException as exc:
        raise StudentException(f"{exc}\nNote: {CALL_CONTRACT}") from None
    if not isinstance(raw, list) or len(raw) != len(class_indices):
        raise WrongType(f"the grader's grad_cam calls returned {type(raw).__name__}, not one map per call")
    return [as_array(value, what=f"grad_cam(...) for {what(i)}") for i, value in enumerate(raw)]


def as_2d(array: np.ndarray, what: str) -> np.ndarray:
    """The map without singleton axes, NaN and inf as 0 (a map of 0/0 is then a constant map).

    Raises:
        WrongType: when it is not a 2-D map once the singleton axes are dropped.
    """
    squeezed = np.squeeze(np.asarray(array, dtype=np.float64))
    if squeezed.ndim != 2:
        raise WrongType(f"grad_cam(...) for {what} returned shape {np.shape(array)}; expected a 2-D heatmap")
    return np.nan_to_num(squeezed, nan=0.0, posinf=0.0, neginf=0.0)


@pytest.fixture(scope="module")
def returned(student, settings, setup) -> list[np.ndarray]:
    """The student's maps of the graded cases, as returned (any shape)."""
    digits = [case.digit for case in setup.cases]
    return _student_maps(student, settings, setup.model_path, setup.images[digits], setup.layer,
                         [case.asked for case in setup.cases], setup.describe)


@pytest.fixture(scope="module")
def judge(returned, setup, settings) -> heatmaps.HeatmapJudge:
    """Every heatmap check's decision on the student's maps (2-D, singleton axes dropped)."""
    maps = [as_2d(array, setup.describe(i)) for i, array in enumerate(returned)]
    return heatmaps.HeatmapJudge(maps, setup.cases, setup.reference.variants, settings,
                                 value_limits(settings, setup.reference, setup.grid), setup.grid)


def _require(verdict: heatmaps.Verdict, mistake: str, message, *, judge=None) -> None:
    """Fail the check with `message()` + " Diagnosis: <mistake>.", naming `mistake` in the report.

    With `judge`, when every map the check looks at is constant, the constant-map message instead.
    """
    if judge is not None and verdict.evidence.get("constant_only"):
        mistake, message = heatmaps.MISTAKES["constant"], lambda: _constant_message(judge)
    named = mistake if mistake and mistake != heatmaps.NO_MATCH else None
    require(verdict.passed, lambda: message() + (f" Diagnosis: {mistake}." if mistake else ""), diagnosis=named)


def _constant_message(judge) -> str:
    constant = [judge.maps[i] for i in judge.constant]
    values = sorted({round(float(m.flat[0]), 6) for m in constant})
    which = (f"all {len(judge.maps)} of your heatmaps are" if judge.degenerate else
             f"the heatmaps this check looks at are all constant ({len(constant)} of your {len(judge.maps)} are):")
    return (f"{which} constant (value {' or '.join(f'{v:g}' for v in values[:3])}; NaN counts as 0): a heatmap "
            "must show where the evidence for the class lies, and the reference's maps of these digits all have "
            "positive cells.")


# -- the checks ----------------------------------------------------------------------------

@pytest.mark.check("q7.heatmap.shape")
def test_heatmap_shape(returned, setup, check):
    allowed = {setup.reference.layer_shapes[setup.layer]: f"the output of `{setup.layer}`", setup.grid: "the image"}
    verdict = heatmaps.shape_verdict([np.shape(a) for a in returned], list(allowed))
    check.details.update(shapes=sorted({str(np.shape(a)) for a in returned}), representations=[
        f"shape {shape}: singleton axes dropped (the same answer)" for shape in verdict.evidence["with_singleton_axes"]
    ])
    wrong = verdict.evidence["wrong"]
    shape = heatmaps.squeezed_shape(np.shape(returned[wrong[0]])) if wrong else None
    others = [name for name, size in setup.reference.layer_shapes.items() if size == shape and name != setup.layer]
    expected = " or ".join(f"{size} ({what})" for size, what in allowed.items())
    _require(verdict, heatmaps.MISTAKES["wrong_layer"] if others else "", lambda: (
        f"{len(wrong)} of {len(returned)} heatmaps have the wrong shape, e.g. {np.shape(returned[wrong[0]])} for "
        f"{setup.describe(wrong[0])}; expected a 2-D array of shape {expected} (a batch or channel axis of size 1 "
        f"is fine).{f' {shape} is the output size of layer `{others[0]}`.' if others else ''}"))


@pytest.mark.check("q7.heatmap.nonnegative")
def test_heatmap_nonnegative(judge, setup, check):
    verdict = judge.nonnegative()
    evidence = verdict.evidence
    check.details.update({key: evidence.get(key) for key in ("minima", "r_with_relu", "r_without_relu")})
    negative = evidence.get("negative") or []
    if negative:
        worst = min(negative, key=lambda i: evidence["minima"][i])
        mistake, message = judge.diagnosis.label("no_relu"), lambda: (
            f"{len(negative)} of {len(judge.maps)} heatmaps have negative values, down to "
            f"{evidence['minima'][worst]:.3g} for {setup.describe(worst)} (allowed: >= "
            f"{judge.limits.lowest(judge.maps[worst].shape):g}): Grad-CAM keeps only the positive evidence with a "
            "ReLU on the weighted sum of feature maps.")
    else:
        mistake, message = heatmaps.MISTAKES["min_max_scaled"], lambda: (
            "your heatmaps keep the negative evidence: on the digits where the reference's map changes with the ReLU "
            f"they match its map without ReLU (mean r = {evidence['r_without_relu']:.2f}) better than its map with "
            f"ReLU (mean r = {evidence['r_with_relu']:.2f}). Pass the weighted sum through a ReLU (np.maximum(cam, 0)) "
            "before dividing by the maximum, rather than rescaling it into [0, 1].")
    _require(verdict, mistake, message, judge=judge)


@pytest.mark.check("q7.heatmap.normalised")
def test_heatmap_normalised(judge, setup, check):
    verdict = judge.normalised()
    check.details["maxima"] = [round(p, 6) for p in verdict.evidence.get("maxima", [])]
    bad = verdict.evidence.get("unnormalised") or [0]
    allowed = judge.limits.peak(judge.maps[bad[0]].shape)
    _require(verdict, judge.diagnosis.label("not_normalised"), lambda: (
        f"{len(bad)} of {len(judge.maps)} heatmaps do not peak at 1: maximum {judge.maps[bad[0]].max():.4g} for "
        f"{setup.describe(bad[0])} (allowed: {allowed[0]:g} to {allowed[1]:g})."), judge=judge)


@pytest.mark.check("q7.heatmap.logit")
def test_heatmap_uses_logit(judge, check):
    verdict = judge.logit()
    check.details.update({key: round(value, 4) for key, value in verdict.evidence.items() if key != "constant"})
    _require(verdict, judge.diagnosis.label("softmax_gradient"), lambda: (
        "your heatmaps of the predicted class match the reference's maps from the softmax probability (mean r = "
        f"{verdict.evidence['mean_r_softmax_map']:.2f}) better than its maps from the logit (mean r = "
        f"{verdict.evidence['mean_r_logit_map']:.2f}). The model ends in a softmax: differentiate the last Dense "
        "layer's pre-activation, e.g. the penultimate layer's output times the last layer's kernel plus its bias, "
        "without modifying the model."), judge=judge)


@pytest.mark.check("q7.heatmap.correlation")
def test_heatmap_correlation(judge, setup, settings, check):
    verdict, minimum = judge.correlation(), settings.min_map_correlation
    rows = [{"case": setup.describe(i), **judge.similarities[i]} for i in judge.predicted]
    check.details.update(images=_overlays(setup, judge), maps=pictures.rounded(rows), threshold=minimum,
                         closest_known_mistakes={key: round(r, 3) for key, r in judge.diagnosis.pattern_scores.items()})
    bad = verdict.evidence.get("bad") or [judge.predicted[0]]
    _require(verdict, judge.diagnosis.pattern(), lambda: (
        f"{len(bad)} of {len(judge.predicted)} heatmaps of the predicted class do not match the reference's "
        f"(Pearson r < {minimum:g} on the {setup.grid[0]}x{setup.grid[1]} image grid), e.g. {setup.describe(bad[0])}: "
        f"r = {judge.similarities[bad[0]]['r']:.2f}."), judge=judge)


@pytest.mark.check("q7.heatmap.top_overlap")
def test_heatmap_top_overlap(judge, settings, check):
    verdict, minimum, fraction = judge.top_overlap(), settings.min_top_overlap, settings.top_fraction
    mean = verdict.evidence.get("mean_overlap", 0.0)
    check.details.update(mean_overlap=round(mean, 4), threshold=minimum)
    _require(verdict, judge.diagnosis.pattern(), lambda: (
        f"the top {fraction:.0%} of the pixels of your heatmaps of the predicted class overlap the reference's by "
        f"{mean:.0%} on average (needs {minimum:.0%})."), judge=judge)


@pytest.mark.check("q7.heatmap.class_sensitivity")
def test_heatmap_class_sensitivity(judge, setup, settings, check):
    verdict = judge.class_sensitivity()
    pairs, bad = verdict.evidence.get("pairs", []), verdict.evidence.get("bad") or [{}]
    check.details.update(threshold=settings.class_margin, pairs=[
        {"case": setup.describe(row["case"]), "r_with_predicted_class_map": round(row["r_student"], 4),
         "r_expected": round(row["r_expected"], 4)} for row in pairs])
    mistake = verdict.evidence.get("mistake") or "ignored_class_index"
    asked = "class_index=0" if mistake == "class_zero_as_none" else "classes asked by number"
    _require(verdict, heatmaps.MISTAKES[mistake], lambda: (
        f"your heatmaps for {asked} explain the predicted class instead: {len(verdict.evidence['bad'])} of the "
        f"{len(pairs)} maps asked by number are (nearly) the same digit's map for class_index=None, e.g. "
        f"{setup.describe(bad[0]['case'])}: r = {bad[0]['r_student']:.2f} between the two, where Grad-CAM's maps of "
        f"these two classes have r = {bad[0]['r_expected']:.2f}. The map must explain the class `class_index` asks "
        "for (only None means the predicted class)."), judge=judge)


@pytest.mark.check("q7.heatmap.randomisation")
def test_heatmap_randomisation(student, setup, settings, judge, check):
    digits = setup.reference.selection.random_digits
    classes = [int(setup.reference.selection.predicted[d]) for d in digits]

    def student_maps(path, which):
        arrays = _student_maps(student, settings, path, setup.images[digits], setup.layer, classes,
                               lambda i: f"digit #{digits[i]}, class {classes[i]} ({which} model)")
        return [as_2d(array, f"digit #{digits[i]} ({which} model)") for i, array in enumerate(arrays)]

    trained, randomised = student_maps(setup.model_path, "trained"), student_maps(setup.random_path, "randomised")
    maximum = settings.random_max_correlation
    verdict = heatmaps.randomisation_verdict(trained, randomised, maximum=maximum, grid=setup.grid)
    values = verdict.evidence["r"]
    rows = [(f"#{d}, class {c}", setup.images[d, ..., 0], [("trained", t), (f"randomised r={v:.2f}", r)])
            for d, c, t, r, v in zip(digits, classes, trained, randomised, values)]
    check.details.update(images=[{"title": "your heatmaps on the trained model and on a copy with a random classifier",
                                  "png_base64": pictures.overlay_png(rows)}],
                         r_trained_vs_randomised=[round(v, 4) for v in values], threshold=maximum)
    if verdict.evidence["constant"] == len(trained):
        _require(verdict, heatmaps.MISTAKES["constant"], lambda: (
            f"all {len(trained)} of your heatmaps on the trained model are constant: there is no pattern to compare "
            "with the randomised model's."))
    _require(verdict, judge.diagnosis.pattern(), lambda: (
        "your heatmaps on a copy of the model whose classifier (its Dense layers) was re-initialised at random "
        f"still match your heatmaps on the trained model (mean r = {verdict.evidence['mean_r']:.2f}, needs < "
        f"{maximum:g}): a faithful explanation depends on the weights that decide the class (the model-randomisation "
        "test of Adebayo et al., 2018)."))


@pytest.mark.check("q7.cnn.train")
def test_cnn_trains(student, mnist, settings, check):
    epochs, minimum = settings.cnn_epochs, settings.cnn_min_accuracy
    result = student.probe(Q, "train_cnn", needs=("build_mnist_cnn",), timeout=settings.cnn_timeout_s,
                           x_train=reference_model.as_model_input(mnist.x_train), y_train=mnist.y_train,
                           x_test=reference_model.as_model_input(mnist.x_test), epochs=epochs,
                           batch_size=settings.cnn_batch_size)
    if not isinstance(result, dict):
        raise WrongType(f"the grader's training probe returned {type(result).__name__}")
    scores = as_array(result.get("scores"), what="the model's outputs on the test digits")
    if scores.shape != (len(mnist.y_test), 10):
        raise WrongType(f"the model's outputs on the test digits have shape {scores.shape}; expected "
                        f"({len(mnist.y_test)}, 10)")
    finite = np.all(np.isfinite(scores), axis=1)
    accuracy = float(np.mean(finite & (np.argmax(np.nan_to_num(scores), axis=1) == mnist.y_test)))  # in the grader
    check.details.update(accuracy=accuracy, threshold=minimum, epochs=epochs, n_train=len(mnist.y_train),
                         params=as_int(result.get("params"), what="parameter count"),
                         **{key: str(result.get(key)) for key in ("kind", "optimizer", "learning_rate", "input_scale")})
    # A linear output under a loss that expects probabilities learns erratically (accuracy 0.10-0.59 over
    # seeds, graders/rubric.toml): named from the model itself, whatever the accuracy of this run.
    require(not (result.get("output_activation") == "linear" and result.get("from_logits") is False), lambda: (
        "build_mnist_cnn(): the last layer has no activation (its outputs are unbounded scores) but the loss "
        "expects probabilities (from_logits=False): use activation=\"softmax\" on the last Dense layer, or a loss "
        "with from_logits=True. Such a model learns erratically from seed to seed (test accuracy here "
        f"{accuracy:.3f}), so its accuracy does not count."), diagnosis=NO_SOFTMAX)
    hints = cnn_training.hints(result, finite, REFERENCE_PARAMS)
    require(accuracy >= minimum, lambda: (
        f"build_mnist_cnn(): test accuracy {accuracy:.3f} after {epochs} epoch(s) on {len(mnist.y_train):,} digits, "
        f"below {minimum:.2f}." + (f" In your model: {'; '.join(hints)}." if hints else "") +
        " Likely causes (measured on this check): " + "; ".join(settings.cnn_likely_causes) + "."),
        diagnosis="; ".join(hints) or None)


# -- report helpers ------------------------------------------------------------------------

def _overlays(setup: Setup, judge) -> list[dict]:
    scores = {i: row["r"] for i, row in judge.similarities.items()}
    return pictures.digit_overlays(setup.cases, setup.images, setup.labels, setup.reference.variants["correct"],
                                   judge.maps, scores)
