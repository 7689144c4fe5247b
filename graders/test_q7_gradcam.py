"""q7: Grad-CAM on the homework's MNIST CNN, and the CNN itself.

The student's `grad_cam(model, image, layer_name, class_index)` is called on the grader's
trained reference CNN, a Functional model loaded fresh from a .keras file for every call, with
- `image`: float32, shape (28, 28, 1), pixels in [0, 1] (the model's input without the batch axis);
- `layer_name`: the name of the last Conv2D layer ("conv3");
- `class_index`: None for the predicted class, an int for the runner-up class.
Maps may be the layer's size (6 x 6) or the image's (28 x 28); they are compared with the
reference's on the 28 x 28 image grid (graders.questions.q7_heatmaps). Each step of Grad-CAM has
its own check, so a mistake loses its own points: the logit (`logit`), the pooled gradients and
the layer (`correlation`, `top_overlap`), the ReLU (`nonnegative`), the normalisation (`normalised`).
Pictures for the report: details["images"] of q7.heatmap.correlation (one PNG per graded digit) and
of q7.heatmap.randomisation, each {"title", "png_base64"}; details["diagnosis"] names the mistake.
"""

import concurrent.futures
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from graders.harness.compare import as_array, as_int, as_number
from graders.harness.errors import StudentException, SubmissionError, WrongType, require
from graders.questions import q7_heatmaps as heatmaps
from graders.questions import q7_reference_model as reference_model
from graders.questions import q7_variants as variants

Q = "q7"
REFERENCE_PARAMS = 130_890
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
    gradcam_digits_randomisation: int
    gradcam_min_positive_cells: int
    gradcam_timeout_s: float
    negative_tol: float
    max_tol: float
    upsampled_negative_tol: float
    upsampled_peak_range: tuple
    top_fraction: float
    min_map_correlation: float
    min_top_overlap: float
    class_max_correlation: float
    random_max_correlation: float
    cnn_epochs: int
    cnn_batch_size: int
    cnn_min_accuracy: float
    cnn_timeout_s: float


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

    def describe(self, index: int) -> str:
        case = self.cases[index]
        role = "predicted class" if case.predicted else "runner-up class"
        return f"digit #{case.digit} (label {self.labels[case.digit]}), class {case.class_index} ({role})"


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
    selection = {"n_clear": settings.gradcam_digits_clear, "n_ambiguous": settings.gradcam_digits_ambiguous,
                 "n_random": settings.gradcam_digits_randomisation, "min_positive": settings.gradcam_min_positive_cells}

    def compute():
        rng = np.random.default_rng([seed, zlib.crc32(b"q7.cases")])
        return variants.reference_maps(reference_model.load(model_path), reference_model.load(random_path), images,
                                       mnist.y_test, rng, **selection).to_arrays()

    # Cached too: a warm grading needs no TensorFlow in this process.
    key = reference_model.cache_key("reference-maps", model_path.stem, random_path.stem, seed, sorted(selection.items()),
                                    mnist.x_test, mnist.y_test, files=(Path(variants.__file__),))
    arrays = reference_model.cached_arrays("reference-maps", key, compute)
    return Setup(model_path, random_path, images, mnist.y_test, variants.ReferenceMaps.from_arrays(arrays))


def _student_maps(student, settings, path, images, layer, class_indices, what) -> list[np.ndarray]:
    try:
        raw = student.probe(Q, "grad_cam_maps", needs=("grad_cam",), timeout=settings.gradcam_timeout_s,
                            model_path=student.share_file(path), images=images, layer_name=layer,
                            class_indices=class_indices)
    except StudentException as exc:
        raise StudentException(f"{exc}\nNote: {CALL_CONTRACT}") from None
    if not isinstance(raw, list) or len(raw) != len(class_indices):
        raise WrongType(f"the grader's grad_cam calls returned {type(raw).__name__}, not one map per call")
    return [as_array(value, what=f"grad_cam(...) for {what(i)}") for i, value in enumerate(raw)]


def _as_2d(array: np.ndarray, what: str, *, finite: bool = True) -> np.ndarray:
    """The map without singleton axes; with `finite`, NaN or inf is an error (else it counts as 0)."""
    squeezed = np.squeeze(array)
    if squeezed.ndim != 2:
        raise WrongType(f"grad_cam(...) for {what} returned shape {array.shape}; expected a 2-D heatmap")
    if not finite:
        return np.nan_to_num(squeezed, nan=0.0, posinf=0.0, neginf=0.0)
    if not np.all(np.isfinite(squeezed)):
        raise WrongType(f"grad_cam(...) for {what} contains NaN or inf (a division by a maximum of 0? The grader "
                        "only grades digits whose Grad-CAM has positive values)")
    return squeezed


@pytest.fixture(scope="module")
def returned(student, settings, setup) -> list[np.ndarray]:
    """The student's maps of the graded cases, as returned (any shape)."""
    indices = [None if case.predicted else case.class_index for case in setup.cases]
    digits = [case.digit for case in setup.cases]
    return _student_maps(student, settings, setup.model_path, setup.images[digits], setup.layer, indices,
                         setup.describe)


@pytest.fixture(scope="module")
def maps(returned, setup) -> list[np.ndarray]:
    """The student's maps as 2-D arrays (singleton axes dropped), checked to be finite."""
    return [_as_2d(array, setup.describe(i)) for i, array in enumerate(returned)]


@pytest.fixture(scope="module")
def limits(setup, settings) -> heatmaps.ValueLimits:
    """The values a map may hold (wider for a map upsampled to the image)."""
    return heatmaps.ValueLimits(
        negative_tol=settings.negative_tol, max_tol=settings.max_tol,
        upsampled_negative_tol=settings.upsampled_negative_tol,
        upsampled_peak_range=tuple(float(v) for v in settings.upsampled_peak_range),
        image_shape=_grid(setup), layer_shape=setup.reference.layer_shapes[setup.layer])


@pytest.fixture(scope="module")
def diagnosis(maps, setup) -> heatmaps.Diagnosis:
    """The known mistake the student's maps are closest to, for the messages."""
    return heatmaps.diagnose(maps, setup.reference.variants, grid=_grid(setup))


@pytest.fixture(scope="module")
def similarities(maps, setup, settings) -> list[dict]:
    """Per map: r and top overlap with the reference's logit map and softmax-gradient map.

    The student's map is clipped at 0 first: negative values are q7.heatmap.nonnegative's business.
    """
    fraction, grid, references = settings.top_fraction, _grid(setup), setup.reference.variants
    rows = []
    for i, student_map in enumerate(maps):
        clipped = np.maximum(student_map, 0.0)
        logit, softmax = (heatmaps.similarity(clipped, references[key][i], grid=grid, fraction=fraction)
                          for key in ("correct", "softmax_gradient"))
        rows.append({"case": setup.describe(i), "r_logit": logit["r"], "r_softmax": softmax["r"],
                     "r": max(logit["r"], softmax["r"]),
                     "top_overlap": max(logit["top_overlap"], softmax["top_overlap"])})
    return rows


def _grid(setup) -> tuple[int, int]:
    return tuple(setup.images.shape[1:3])  # the image: (28, 28)


def _positive_r(a: np.ndarray, b: np.ndarray, grid: tuple[int, int]) -> float:
    """Pearson r of two student maps' positive parts, on `grid`."""
    return heatmaps.pearson(heatmaps.resample(np.maximum(a, 0.0), grid), heatmaps.resample(np.maximum(b, 0.0), grid))


def _require(passed, mistake: str, message) -> None:
    """Fail the check with `message()` + " Diagnosis: <mistake>.", and name `mistake` in the report."""
    named = mistake if mistake and mistake != heatmaps.NO_MATCH else None
    require(passed, lambda: message() + (f" Diagnosis: {mistake}." if mistake else ""), diagnosis=named)


def _pattern_mistake(diagnosis: heatmaps.Diagnosis, *only: str) -> str:
    """The closest known mistake in words ("" unless it is one of `only`, when given)."""
    return "" if only and diagnosis.closest not in only else diagnosis.pattern()


# -- the checks ----------------------------------------------------------------------------

@pytest.mark.check("q7.heatmap.shape")
def test_heatmap_shape(returned, setup, check):
    allowed = {setup.reference.layer_shapes[setup.layer]: f"the output of `{setup.layer}`", _grid(setup): "the image"}
    wrong = [(i, tuple(array.shape)) for i, array in enumerate(returned) if tuple(array.shape) not in allowed]
    check.details["shapes"] = sorted({str(tuple(array.shape)) for array in returned})
    if not wrong:
        return
    shape = wrong[0][1]
    others = [name for name, size in setup.reference.layer_shapes.items() if size == shape[:2] and name != setup.layer]
    mistake = heatmaps.MISTAKES["wrong_layer"] if others else ""
    why = f" {shape} is the output size of layer `{others[0]}`." if others else ""
    expected = " or ".join(f"{size} ({what})" for size, what in allowed.items())
    _require(False, mistake, lambda: (
        f"{len(wrong)} of {len(returned)} heatmaps have the wrong shape, e.g. {shape} for "
        f"{setup.describe(wrong[0][0])}; expected a 2-D array of shape {expected}.{why}"))


@pytest.mark.check("q7.heatmap.nonnegative")
def test_heatmap_nonnegative(maps, setup, limits, diagnosis, check):
    bad = limits.negative(maps)
    lowest = [float(m.min()) for m in maps]
    check.details["minima"] = [round(v, 6) for v in lowest]
    worst = min(bad, key=lambda i: lowest[i], default=None)
    _require(not bad, diagnosis.label("no_relu"), lambda: (
        f"{len(bad)} of {len(maps)} heatmaps have negative values, down to {lowest[worst]:.3g} for "
        f"{setup.describe(worst)} (allowed: >= {limits.lowest(maps[worst].shape):g}): Grad-CAM "
        "keeps only the positive evidence with a ReLU on the weighted sum of feature maps."))


@pytest.mark.check("q7.heatmap.normalised")
def test_heatmap_normalised(maps, setup, limits, diagnosis, check):
    bad = limits.unnormalised(maps)
    peaks = [float(m.max()) for m in maps]
    check.details["maxima"] = [round(p, 6) for p in peaks]
    allowed = limits.peak(maps[bad[0]].shape) if bad else None
    _require(not bad, diagnosis.label("not_normalised"), lambda: (
        f"{len(bad)} of {len(maps)} heatmaps do not peak at 1: maximum {peaks[bad[0]]:.4g} for "
        f"{setup.describe(bad[0])} (allowed: {allowed[0]:g} to {allowed[1]:g})."))


@pytest.mark.check("q7.heatmap.logit")
def test_heatmap_uses_logit(similarities, settings, diagnosis, check):
    r_logit = float(np.mean([row["r_logit"] for row in similarities]))
    r_softmax = float(np.mean([row["r_softmax"] for row in similarities]))
    matches_softmax = r_softmax > r_logit and r_softmax >= settings.min_map_correlation
    check.details.update(mean_r_logit_map=round(r_logit, 4), mean_r_softmax_map=round(r_softmax, 4))
    _require(not matches_softmax, diagnosis.label("softmax_gradient"), lambda: (
        f"your heatmaps match the reference's maps from the softmax probability (mean r = {r_softmax:.2f}) better "
        f"than its maps from the logit (mean r = {r_logit:.2f}). The model ends in a softmax: differentiate the last "
        "Dense layer's pre-activation, e.g. the penultimate layer's output times the last layer's kernel plus its "
        "bias, without modifying the model."))


@pytest.mark.check("q7.heatmap.correlation")
def test_heatmap_correlation(maps, similarities, setup, settings, diagnosis, check):
    minimum = settings.min_map_correlation
    scores = {key: round(r, 3) for key, r in diagnosis.pattern_scores.items()}
    check.details.update(images=_overlays(setup, maps, similarities), maps=_rounded(similarities),
                         threshold=minimum, closest_known_mistakes=scores)
    bad = [row for row in similarities if row["r"] < minimum]
    _require(not bad, _pattern_mistake(diagnosis), lambda: (
        f"{len(bad)} of {len(maps)} heatmaps do not match the reference's (Pearson r < {minimum:g} on the "
        f"{_grid(setup)[0]}x{_grid(setup)[1]} image grid), e.g. {bad[0]['case']}: r = {bad[0]['r']:.2f}."))


@pytest.mark.check("q7.heatmap.top_overlap")
def test_heatmap_top_overlap(similarities, setup, settings, diagnosis, check):
    minimum, fraction = settings.min_top_overlap, settings.top_fraction
    by_role = {}
    for case, row in zip(setup.cases, similarities):
        by_role.setdefault("predicted class" if case.predicted else "runner-up class", []).append(row["top_overlap"])
    means = {role: float(np.mean(values)) for role, values in by_role.items()}
    check.details.update(mean_overlap={role: round(value, 4) for role, value in means.items()}, threshold=minimum)
    worst = min(means, key=means.get)
    _require(means[worst] >= minimum, _pattern_mistake(diagnosis), lambda: (
        f"the top {fraction:.0%} of your heatmaps' pixels overlap the reference's by {means[worst]:.0%} on average "
        f"for the {worst} (needs {minimum:.0%})."))


@pytest.mark.check("q7.heatmap.class_sensitivity")
def test_heatmap_class_sensitivity(maps, setup, settings, diagnosis, check):
    maximum = settings.class_max_correlation
    pairs = [(i, i + 1) for i, case in enumerate(setup.cases) if case.ambiguous and case.predicted]
    values = [_positive_r(maps[a], maps[b], _grid(setup)) for a, b in pairs]
    check.details.update(r_between_classes=[round(v, 4) for v in values], threshold=maximum)
    mistake = _pattern_mistake(diagnosis, "ignored_class_index", "unweighted_activations")
    _require(np.mean(values) < maximum, mistake, lambda: (
        f"on the {len(pairs)} ambiguous digits your heatmaps for the two most probable classes are nearly the same "
        f"(mean r = {np.mean(values):.2f}, needs < {maximum:g}): the map must explain the class `class_index` asks "
        "for."))


@pytest.mark.check("q7.heatmap.randomisation")
def test_heatmap_randomisation(student, setup, settings, diagnosis, check):
    digits = setup.reference.selection.random_digits
    classes = [int(setup.reference.selection.predicted[d]) for d in digits]

    def describe(i):
        return f"digit #{digits[i]}, class {classes[i]}"

    def student_maps(path, which):
        arrays = _student_maps(student, settings, path, setup.images[digits], setup.layer, classes,
                               lambda i: f"{describe(i)} ({which} model)")
        # On the randomised model a map may have no positive value at all; 0/0 there is no pattern (r = 0).
        return [_as_2d(array, f"{describe(i)} ({which} model)", finite=which == "trained")
                for i, array in enumerate(arrays)]

    trained, randomised = student_maps(setup.model_path, "trained"), student_maps(setup.random_path, "randomised")
    values = [_positive_r(a, b, _grid(setup)) for a, b in zip(trained, randomised)]
    maximum = settings.random_max_correlation
    rows = [(f"#{d}, class {c}", setup.images[d, ..., 0], [("trained", t), (f"randomised r={v:.2f}", r)])
            for d, c, t, r, v in zip(digits, classes, trained, randomised, values)]
    check.details.update(images=[{"title": "your heatmaps on the trained model and on a copy with a random classifier",
                                  "png_base64": heatmaps.overlay_png(rows)}],
                         r_trained_vs_randomised=[round(v, 4) for v in values], threshold=maximum)
    _require(np.mean(values) < maximum, _pattern_mistake(diagnosis), lambda: (
        "your heatmaps on a copy of the model whose classifier (its Dense layers) was re-initialised at random "
        f"still match your heatmaps on the trained model (mean r = {np.mean(values):.2f}, needs < {maximum:g}): a "
        "faithful explanation depends on the weights that decide the class (the model-randomisation test of "
        "Adebayo et al., 2018)."))


@pytest.mark.check("q7.cnn.train")
def test_cnn_trains(student, mnist, settings, check):
    epochs, minimum = settings.cnn_epochs, settings.cnn_min_accuracy
    result = student.probe(Q, "train_cnn", needs=("build_mnist_cnn",), timeout=settings.cnn_timeout_s,
                           x_train=reference_model.as_model_input(mnist.x_train), y_train=mnist.y_train,
                           x_test=reference_model.as_model_input(mnist.x_test), y_test=mnist.y_test,
                           epochs=epochs, batch_size=settings.cnn_batch_size)
    if not isinstance(result, dict):
        raise WrongType(f"the grader's training probe returned {type(result).__name__}")
    accuracy = as_number(result.get("accuracy"), what="test accuracy")
    check.details.update(accuracy=accuracy, threshold=minimum, epochs=epochs, n_train=len(mnist.y_train),
                         params=as_int(result.get("params"), what="parameter count"),
                         model_class=str(result.get("kind")))
    mistake = _cnn_mistake(result)
    _require(accuracy >= minimum, mistake, lambda: (
        f"build_mnist_cnn(): test accuracy {accuracy:.3f} after {epochs} epoch(s) on {len(mnist.y_train):,} "
        f"digits, below {minimum:.2f}."))


def _cnn_mistake(result: dict) -> str:
    hints = []
    if result.get("output_activation") != "softmax" and result.get("from_logits") is False:
        hints.append(f"the output layer's activation is {str(result.get('output_activation'))!r} but the loss "
                     "expects probabilities: use activation=\"softmax\" on the last Dense layer (or a loss with "
                     "from_logits=True)")
    if result.get("params") != REFERENCE_PARAMS:
        hints.append(f"the model has {result.get('params')} parameters; the homework's CNN has {REFERENCE_PARAMS:,}")
    return "; ".join(hints)


# -- report helpers ------------------------------------------------------------------------

def _rounded(rows: list[dict]) -> list[dict]:
    return [{key: round(value, 4) if isinstance(value, float) else value for key, value in row.items()} for row in rows]


def _overlays(setup: Setup, maps: list[np.ndarray], similarities: list[dict]) -> list[dict]:
    """One PNG per graded digit: the digit, then the reference's and the student's map for each class."""
    images, references = [], setup.reference.variants["correct"]
    for start in range(0, len(setup.cases), 2):
        digit = setup.cases[start].digit
        rows = []
        for i in (start, start + 1):
            case = setup.cases[i]
            panels = [("reference", references[i]), (f"yours r={similarities[i]['r']:.2f}", maps[i])]
            role = "predicted" if case.predicted else "runner-up"
            rows.append((f"class {case.class_index} ({role})", setup.images[digit, ..., 0], panels))
        images.append({"title": f"digit #{digit} (label {setup.labels[digit]})",
                       "png_base64": heatmaps.overlay_png(rows)})
    return images
