"""q7's rubric settings and the judges of its checks: each decides from its check's observations alone
(observations.py) and the thresholds of rubric.toml [q7], where their calibration is recorded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graders.core.errors import CheckFailed, require
from graders.core.judging import Judges
from graders.core.rubric import observed
from graders.questions.q7 import cnn_training, heatmaps
from graders.questions.q7.heatmaps import MISTAKES, NO_MATCH, Diagnosis, ValueLimits

HEATMAPS = "heatmap.*"


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q7]: what the checks observe (the cases, budgets) and the thresholds the judges apply."""

    gradcam_digits_clear: int = observed(HEATMAPS)
    gradcam_digits_ambiguous: int = observed(HEATMAPS)
    gradcam_digits_negative: int = observed(HEATMAPS)
    gradcam_digits_layer: int = observed(HEATMAPS)
    gradcam_digits_randomisation: int = observed(HEATMAPS)
    gradcam_min_positive_cells: int = observed(HEATMAPS)
    class_distinct_max: float = observed(HEATMAPS)
    negative_evidence_max_r: float = observed(HEATMAPS)
    layer_distinct_max: float = observed(HEATMAPS)
    gradcam_timeout_s: float = observed(HEATMAPS)
    top_fraction: float = observed("heatmap.top_overlap")
    negative_tol: float
    max_tol: float
    upsampled_negative_tol: float
    upsampled_peak_range: tuple
    negative_evidence_margin: float
    negative_evidence_min_r: float
    min_map_correlation: float
    min_top_overlap: float
    class_margin: float
    random_max_correlation: float
    layer_same_min_r: float
    cnn_epochs: int = observed("cnn.train")
    cnn_batch_size: int = observed("cnn.train")
    cnn_timeout_s: float = observed("cnn.train")
    cnn_min_accuracy: float
    cnn_likely_causes: tuple

    def selection(self) -> dict:
        """The trusted side's case selection settings (trusted.select_cases)."""
        return {"n_clear": self.gradcam_digits_clear, "n_ambiguous": self.gradcam_digits_ambiguous,
                "n_negative": self.gradcam_digits_negative, "n_layer": self.gradcam_digits_layer,
                "n_random": self.gradcam_digits_randomisation, "min_positive": self.gradcam_min_positive_cells,
                "class_distinct_max": self.class_distinct_max, "negative_evidence_max_r": self.negative_evidence_max_r,
                "layer_distinct_max": self.layer_distinct_max}

    def limits(self) -> ValueLimits:
        return ValueLimits(self.negative_tol, self.max_tol, self.upsampled_negative_tol,
                           tuple(float(v) for v in self.upsampled_peak_range))


JUDGES = Judges("q7")


def _diagnosis(observations: dict) -> Diagnosis:
    return Diagnosis.from_plain(observations["diagnosis"])


def _fail(message: str, mistake: str = "", *, named: str | None = None) -> None:
    """Fail with `message` + " Diagnosis: <mistake>."; `named` is the mistake's key for the report."""
    raise CheckFailed(message + (f" Diagnosis: {mistake}." if mistake else ""),
                      diagnosis=named if mistake and mistake != NO_MATCH else None)


def _if_all_constant(observations: dict, indices=None) -> None:
    """Fail with the constant-map message when every map the check looks at is constant."""
    constant = set(observations["constant"])
    looked_at = range(observations["n_maps"]) if indices is None else indices
    if all(i in constant for i in looked_at):
        which = (f"all {observations['n_maps']} of your heatmaps are" if len(constant) == observations["n_maps"] else
                 f"the heatmaps this check looks at are all constant ({len(constant)} of your "
                 f"{observations['n_maps']} are):")
        _fail(f"{which} constant (NaN counts as 0): a heatmap must show where the evidence for the class lies, and "
              "the reference's maps of these digits all have positive cells.", MISTAKES["constant"], named="constant")


@JUDGES("shape")
def shape(observations: dict, settings: Settings, details: dict) -> None:
    """Every map is 2-D of the last convolution's size or the image's once its singleton axes are dropped."""
    shapes, layer_shapes = observations["shapes"], observations["layer_shapes"]
    layer, image = tuple(layer_shapes[observations["layer"]]), tuple(observations["image"])
    squeezed = [heatmaps.squeezed_shape(s) for s in shapes]
    details.update(shapes=sorted({str(tuple(s)) for s in shapes}), representations=[
        f"shape {tuple(s)}: singleton axes dropped (the same answer)" for s in shapes if len(s) != len(
            heatmaps.squeezed_shape(s))][:3])
    wrong = [i for i, s in enumerate(squeezed) if s not in (layer, image)]
    if not wrong:
        return
    first = squeezed[wrong[0]]
    others = [name for name, size in layer_shapes.items() if tuple(size) == first and name != observations["layer"]]
    _fail(f"{len(wrong)} of {len(shapes)} heatmaps have the wrong shape, e.g. {tuple(shapes[wrong[0]])} for "
          f"{observations['cases'][wrong[0]]}; expected a 2-D array of shape {layer} (the output of "
          f"`{observations['layer']}`) or {image} (the image) (a batch or channel axis of size 1 is fine)."
          + (f" {first} is the output size of layer `{others[0]}`." if others else ""),
          MISTAKES["wrong_layer"] if others else "", named="wrong_layer")


@JUDGES("nonnegative")
def nonnegative(observations: dict, settings: Settings, details: dict) -> None:
    """No value below its limit, and no negative evidence kept in a shifted map (at the negative-evidence digits
    the maps match the reference's without ReLU better than with it)."""
    _if_all_constant(observations)
    limits, minima, upsampled = settings.limits(), observations["minima"], observations["upsampled"]
    rows = observations["negative_evidence"]
    with_relu, without = [row["r_with_relu"] for row in rows], [row["r_without_relu"] for row in rows]
    details.update(minima=[round(m, 6) for m in minima], r_with_relu=_mean(with_relu), r_without_relu=_mean(without))
    negative = [i for i, m in enumerate(minima) if m < limits.lowest(upsampled[i])]
    diagnosis = _diagnosis(observations)
    if negative:
        worst = min(negative, key=lambda i: minima[i])
        _fail(f"{len(negative)} of {len(minima)} heatmaps have negative values, down to {minima[worst]:.3g} for "
              f"{observations['cases'][worst]} (allowed: >= {limits.lowest(upsampled[worst]):g}): Grad-CAM keeps only "
              "the positive evidence with a ReLU on the weighted sum of feature maps.", diagnosis.label("no_relu"),
              named="no_relu")
    margin = float(np.mean(np.subtract(without, with_relu))) if rows else float("-inf")
    if rows and margin > settings.negative_evidence_margin and np.mean(without) >= settings.negative_evidence_min_r:
        _fail(f"your heatmaps keep the negative evidence: on the digits where the reference's map changes with the ReLU "
              f"they match its map without ReLU (mean r = {np.mean(without):.2f}) better than its map with ReLU "
              f"(mean r = {np.mean(with_relu):.2f}). Pass the weighted sum through a ReLU (np.maximum(cam, 0)) before "
              "dividing by the maximum, rather than rescaling it into [0, 1].", MISTAKES["min_max_scaled"],
              named="min_max_scaled")


@JUDGES("normalised")
def normalised(observations: dict, settings: Settings, details: dict) -> None:
    """Every map that is not constant peaks at 1 (within the limits of its size)."""
    _if_all_constant(observations)
    limits, maxima, upsampled = settings.limits(), observations["maxima"], observations["upsampled"]
    details["maxima"] = [round(m, 6) for m in maxima]
    constant = set(observations["constant"])
    bad = [i for i, m in enumerate(maxima)
           if i not in constant and not limits.peak(upsampled[i])[0] <= m <= limits.peak(upsampled[i])[1]]
    if bad:
        low, high = limits.peak(upsampled[bad[0]])
        _fail(f"{len(bad)} of {len(maxima)} heatmaps do not peak at 1: maximum {maxima[bad[0]]:.4g} for "
              f"{observations['cases'][bad[0]]} (allowed: {low:g} to {high:g}).",
              _diagnosis(observations).label("not_normalised"), named="not_normalised")


@JUDGES("logit")
def logit(observations: dict, settings: Settings, details: dict) -> None:
    """The predicted-class maps match the logit's maps at least as well as the softmax's."""
    rows = observations["rows"]
    if not rows:
        _if_all_constant(observations, indices=[])
    r_logit, r_softmax = (float(np.mean([row[key] for row in rows])) for key in ("r_logit", "r_softmax"))
    details.update(mean_r_logit_map=round(r_logit, 4), mean_r_softmax_map=round(r_softmax, 4))
    if r_softmax > r_logit and r_softmax >= settings.min_map_correlation:
        _fail("your heatmaps of the predicted class match the reference's maps from the softmax probability (mean r = "
              f"{r_softmax:.2f}) better than its maps from the logit (mean r = {r_logit:.2f}). The model ends in a "
              "softmax: differentiate the last Dense layer's pre-activation, e.g. the penultimate layer's output times "
              "the last layer's kernel plus its bias, without modifying the model.",
              _diagnosis(observations).label("softmax_gradient"), named="softmax_gradient")


@JUDGES("correlation")
def correlation(observations: dict, settings: Settings, details: dict) -> None:
    """Every predicted-class map has r >= min_map_correlation with the reference's (a constant one: 0)."""
    _if_all_constant(observations)
    minimum, rows, diagnosis = settings.min_map_correlation, observations["rows"], _diagnosis(observations)
    details.update(threshold=minimum, closest_known_mistakes={k: round(v, 3) for k, v in diagnosis.pattern_scores.items()},
                   maps=[{"case": row["case"], "r": round(row["r"], 4)} for row in rows])
    bad = [row for row in rows if row["r"] < minimum]
    if bad:
        _fail(f"{len(bad)} of {len(rows)} heatmaps of the predicted class do not match the reference's (Pearson r < "
              f"{minimum:g} on the image grid), e.g. {bad[0]['case']}: r = {bad[0]['r']:.2f}.", diagnosis.pattern(),
              named=diagnosis.named)


@JUDGES("top_overlap")
def top_overlap(observations: dict, settings: Settings, details: dict) -> None:
    """The predicted-class maps' top pixels overlap the reference's by min_top_overlap on average."""
    _if_all_constant(observations)
    mean, minimum = float(np.mean(observations["overlaps"])), settings.min_top_overlap
    details.update(mean_overlap=round(mean, 4), threshold=minimum)
    if mean < minimum:
        diagnosis = _diagnosis(observations)
        _fail(f"the top {observations['fraction']:.0%} of the pixels of your heatmaps of the predicted class overlap "
              f"the reference's by {mean:.0%} on average (needs {minimum:.0%}).", diagnosis.pattern(),
              named=diagnosis.named)


@JUDGES("class_sensitivity")
def class_sensitivity(observations: dict, settings: Settings, details: dict) -> None:
    """Each map of an asked class differs from the same digit's predicted-class map as the method's maps do:
    r(student's pair) - r(method's pair) <= class_margin."""
    pairs = observations["pairs"]
    if not pairs:
        _if_all_constant(observations, indices=[])
    details.update(threshold=settings.class_margin, pairs=[
        {"case": row["case"], "r_with_predicted_class_map": round(row["r_student"], 4),
         "r_expected": round(row["r_expected"], 4)} for row in pairs])
    diagnosis = _diagnosis(observations)
    if diagnosis.training_calls:  # noise maps: how the class is handled cannot show
        _fail("your grad_cam runs the model in training mode, so its maps are noise rather than the evidence for a "
              "class: whether they follow `class_index` cannot be checked.", MISTAKES["training_mode"],
              named="training_mode")
    bad = [row for row in pairs if row["r_student"] - row["r_expected"] > settings.class_margin]
    if not bad:
        return
    only_zero = all(row["class"] == 0 for row in bad) and any(row["class"] != 0 for row in pairs)
    mistake = "class_zero_as_none" if only_zero else "ignored_class_index"
    asked = "class_index=0" if only_zero else "classes asked by number"
    _fail(f"your heatmaps for {asked} explain the predicted class instead: {len(bad)} of the {len(pairs)} maps asked by "
          f"number are (nearly) the same digit's map for class_index=None, e.g. {bad[0]['case']}: r = "
          f"{bad[0]['r_student']:.2f} between the two, where Grad-CAM's maps of these two classes have r = "
          f"{bad[0]['r_expected']:.2f}. The map must explain the class `class_index` asks for (only None means the "
          "predicted class).", MISTAKES[mistake], named=mistake)


@JUDGES("randomisation")
def randomisation(observations: dict, settings: Settings, details: dict) -> None:
    """The maps change when the classifier is re-initialised: mean r (trained vs randomised) < random_max_correlation.

    A constant map on the randomised model is fine (no positive evidence: r = 0); a constant one on the
    trained model shows nothing, so it is left out, and all of them fail.
    """
    values, constant, maximum = observations["r"], observations["constant"], settings.random_max_correlation
    informative = [v for v, flat in zip(values, constant) if not flat]
    details.update(r_trained_vs_randomised=[round(v, 4) for v in values], threshold=maximum)
    if not informative:
        _fail(f"all {len(values)} of your heatmaps on the trained model are constant: there is no pattern to compare "
              "with the randomised model's.", MISTAKES["constant"], named="constant")
    mean = float(np.mean(informative))
    if mean >= maximum:
        diagnosis = Diagnosis.from_plain(observations["diagnosis"])
        _fail("your heatmaps on a copy of the model whose classifier (its Dense layers) was re-initialised at random "
              f"still match your heatmaps on the trained model (mean r = {mean:.2f}, needs < {maximum:g}): a faithful "
              "explanation depends on the weights that decide the class (the model-randomisation test of Adebayo et "
              "al., 2018).", diagnosis.pattern(), named=diagnosis.named)


@JUDGES("layer_name")
def layer_name(observations: dict, settings: Settings, details: dict) -> None:
    """The maps asked at the other layer have its size (or the image's) and are not the last convolution's maps."""
    rows, asked, last = observations["rows"], observations["layer_name"], observations["last_conv"]
    sizes = {name: tuple(size) for name, size in observations["layer_shapes"].items()}
    image = tuple(observations["image"])
    details.update(layer_name=asked, r_with_last_conv_map=[round(row["r_with_last_conv_map"], 4) for row in rows],
                   threshold=settings.layer_same_min_r)
    if rows and all(row["constant"] for row in rows):
        _fail(f"all {len(rows)} of your heatmaps for layer_name={asked!r} are constant: they show no evidence.",
              MISTAKES["constant"], named="constant")
    wrong = [row for row in rows if tuple(row["shape"]) not in (sizes[asked], image)]
    if wrong:
        shape = tuple(wrong[0]["shape"])
        owner = next((name for name, size in sizes.items() if size == shape), None)
        _fail(f"grad_cam(model, image, layer_name={asked!r}) returned {len(wrong)} of {len(rows)} maps of shape {shape}, "
              f"e.g. for {wrong[0]['case']}; the output of `{asked}` is {sizes[asked]}"
              + (f", and {shape} is the output size of `{owner}`" if owner else "") + ".",
              MISTAKES["ignored_layer_name"] if owner else "", named="ignored_layer_name")
    same = [row for row in rows if row["equal_to_last_conv_map"] or row["r_with_last_conv_map"] >= settings.layer_same_min_r]
    require(not same, lambda: (
        f"grad_cam(model, image, layer_name={asked!r}) returned the same maps as for layer_name={last!r} ({len(same)} "
        f"of {len(rows)} digits, e.g. {same[0]['case']}: r = {same[0]['r_with_last_conv_map']:.3f}): the map must be "
        f"made from the feature maps of the layer `layer_name` names. Diagnosis: {MISTAKES['ignored_layer_name']}."),
        diagnosis="ignored_layer_name")


@JUDGES("cnn_train")
def cnn_train(observations: dict, settings: Settings, details: dict) -> None:
    """build_mnist_cnn(): compiled for integer labels, a softmax output for a probability loss, and the accuracy."""
    model = observations["model"]
    details.update({key: model.get(key) for key in ("params", "kind", "optimizer", "learning_rate", "input_scale",
                                                     "loss")})
    require(not model.get("one_hot_loss"), lambda: (
        f"build_mnist_cnn(): the model is compiled with {model.get('loss')!r}, a loss for one-hot labels, but the "
        "contract gives integer labels 0..9 (Keras 3 refuses to train it on them): compile with "
        "loss=\"sparse_categorical_crossentropy\" (or keras.losses.SparseCategoricalCrossentropy()). The model was "
        "not trained."), diagnosis="a loss for one-hot labels (categorical_crossentropy)")
    accuracy, minimum, epochs = observations["accuracy"], settings.cnn_min_accuracy, observations["epochs"]
    details.update(accuracy=accuracy, threshold=minimum, epochs=epochs, n_train=observations["n_train"])
    # A linear output under a loss that expects probabilities learns erratically (accuracy 0.10-0.59 over
    # seeds, graders/rubric.toml): named from the model itself, whatever the accuracy of this run.
    require(not (model.get("output_activation") == "linear" and model.get("from_logits") is False), lambda: (
        "build_mnist_cnn(): the last layer has no activation (its outputs are unbounded scores) but the loss "
        "expects probabilities (from_logits=False): use activation=\"softmax\" on the last Dense layer, or a loss "
        "with from_logits=True. Such a model learns erratically from seed to seed (test accuracy here "
        f"{accuracy:.3f}), so its accuracy does not count."),
        diagnosis="no softmax on the last layer while the loss expects probabilities")
    hints = cnn_training.hints(model, observations["nonfinite"])
    require(accuracy >= minimum, lambda: (
        f"build_mnist_cnn(): test accuracy {accuracy:.3f} after {epochs} epoch(s) on {observations['n_train']:,} "
        f"digits, below {minimum:.2f}." + (f" In your model: {'; '.join(hints)}." if hints else "") +
        " Likely causes (measured on this check): " + "; ".join(settings.cnn_likely_causes) + "."),
        diagnosis="; ".join(hints) or None)


def _mean(values: list[float]):
    return round(float(np.mean(values)), 4) if values else None
