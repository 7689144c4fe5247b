"""q3's rubric settings and the judges of its checks: the preprocessing's scales, layout and fit, the model's
output shape, and R² on held-out data against the rubric's thresholds.

A check observes what it measured on the student's outputs (feature spreads, shapes, how far X_train moved
as an excess frontier, the R² and the predictions' range); the thresholds and tolerances are read here
only, so a rescore under other ones is a fresh grading. The data sizes, noise, training budget and time
budget change what is observed (`observed`): a rescore refuses a change of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graders.core.closeness import require_close_summary
from graders.core.errors import CheckFailed, require
from graders.core.judging import Judges
from graders.core.rubric import observed

DATA = ("preprocess.*", "model.*", "r2.*")  # every check observes the data sets


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q3] (the calibration of each threshold is recorded there)."""

    n_train: int = observed(*DATA)
    n_test: int = observed(*DATA)
    noise: float = observed(*DATA)
    batch_size: int = observed("r2.*")
    epochs_linear: int = observed("r2.linear")
    epochs_friedman: int = observed("r2.friedman")
    r2_min_linear: float
    r2_min_friedman: float
    max_std_ratio: float
    min_learning_rate: float
    leakage_atol: float
    leakage_rtol: float
    train_timeout_s: float = observed("model.*", "r2.*")

    def epochs(self, name: str) -> int:
        return {"linear": self.epochs_linear, "friedman": self.epochs_friedman}[name]

    def r2_min(self, name: str) -> float:
        return {"linear": self.r2_min_linear, "friedman": self.r2_min_friedman}[name]


JUDGES = Judges("q3")


# -- what is wrong, in words -----------------------------------------------------------------

def scale_problem(std, max_ratio: float) -> str:
    """A sentence when the transformed features' standard deviations `std` differ by more than `max_ratio`."""
    std = np.asarray(std, dtype=np.float64)
    if std.min() > 0 and std.max() / std.min() <= max_ratio:
        return ""
    return (f"the features are not scaled: after preprocess their standard deviations range from "
            f"{std.min():.3g} to {std.max():.3g}; fit a scaler (e.g. StandardScaler) on X_train")


def layout_problem(sample_shape) -> str:
    """A sentence when each sample is shaped (n_features, 1) instead of (1, n_features)."""
    sample_shape = tuple(sample_shape)
    features = int(np.prod(sample_shape))
    if sample_shape in ((1, features), (features,)):
        return ""
    if sample_shape == (features, 1):
        return (f"each sample is shaped ({features}, 1): a sequence of {features} steps of one number, so "
                f"Conv1D slides along unrelated features; shape it (samples, 1, {features}): one step of "
                f"{features} features")
    return f"each sample is shaped {sample_shape}; expected (1, {features}): one step of {features} features"


def output_problem(output_shape) -> str:
    """A sentence when the model gives more than one number per sample (before the grader flattens it)."""
    if list(output_shape) in ([], [1]):
        return ""
    return (f"the model outputs shape {tuple(output_shape)} per sample, not (1,): Keras then broadcasts the "
            "targets against it in the loss, and the model learns little more than their mean; add a Flatten "
            "before the output layer")


def prediction_problem(predictions: dict, target: dict) -> str:
    """A sentence when the predictions cannot follow the target at all (a sigmoid saturated at 1 is
    both confined to [0, 1] and constant: both are said, the bound first).

    Args:
        predictions, target: {"min", "max", "ptp", "mean", "std"} of each (`spread`).
    """
    problems = []
    if predictions["min"] >= 0.0 and predictions["max"] <= 1.0 and (target["min"] < 0.0 or target["max"] > 1.0):
        problems.append(f"every prediction lies in [0, 1] while the target ranges from {target['min']:.3g} to "
                        f"{target['max']:.3g}: an output activation such as sigmoid cannot reach it; use a linear output")
    if predictions["ptp"] < 0.01 * target["std"]:
        problems.append(f"the model predicts (almost) the same value, {predictions['mean']:.3g}, for every sample")
    return "; ".join(problems)


def spread(values) -> dict:
    """What `prediction_problem` reads of an array: {"min", "max", "ptp", "mean", "std"}."""
    values = np.asarray(values, dtype=np.float64)
    return {"min": float(values.min()), "max": float(values.max()), "ptp": float(np.ptp(values)),
            "mean": float(values.mean()), "std": float(values.std())}


def learning_rate_problem(rate, least: float) -> str:
    """A sentence when the optimizer's learning rate is below what the grader's budget was calibrated for."""
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not rate < least:
        return ""
    return (f"the optimizer's learning rate {rate:g} is below {least:g}: within the grader's fixed number of "
            f"epochs the model is still far from converged (Keras' default 0.001 and the handout's 0.01 both "
            "reach the threshold)")


# -- the judges ------------------------------------------------------------------------------

@JUDGES("scaling")
def scaling(observations: dict, settings: Settings, details: dict) -> None:
    """Each set's transformed features have standard deviations within `max_std_ratio` of each other."""
    for name, std in observations["feature_std"].items():
        problem = scale_problem(std, settings.max_std_ratio)
        require(not problem, f"{name} set: {problem}")


@JUDGES("layout")
def layout(observations: dict, settings: Settings, details: dict) -> None:
    """Each sample one step of n_features (or flat), X_test's samples shaped as X_train's."""
    for name, shapes in observations["sample_shapes"].items():
        train, test = tuple(shapes["X_train"]), tuple(shapes["X_test"])
        problem = layout_problem(train)
        require(not problem, f"{name} set: {problem}")
        require(test == train, lambda: f"{name} set: preprocess shaped X_train samples {train} but X_test "
                                       f"samples {test}; both need the same shape")


@JUDGES("unchanged")
def unchanged(observations: dict, settings: Settings, details: dict) -> None:
    """Two transforms that a scaler fitted on X_train only gives alike are alike, within the leakage tolerance."""
    try:
        require_close_summary(observations["comparison"], what=observations["what"], atol=settings.leakage_atol,
                              rtol=settings.leakage_rtol)
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}. {observations['advice']}") from None


@JUDGES("input_shape")
def input_shape(observations: dict, settings: Settings, details: dict) -> None:
    """The model built for each set's sample shape predicts one number per sample."""
    for built in observations["builds"]:
        shape, samples = tuple(built["prediction_shape"]), built["samples"]
        cause = output_problem(shape[1:]) if len(shape) > 1 else ""
        require(shape in ((samples, 1), (samples,)),
                lambda: f"build_regressor(input_shape={tuple(built['input_shape'])}) predicts shape {shape} for "
                        f"{samples} samples; expected ({samples}, 1): one number per sample"
                        + (f"; {cause}" if cause else ""))


@JUDGES("r2")
def r2(observations: dict, settings: Settings, details: dict) -> None:
    """R² on the held-out set at or above the set's threshold; below it, the likely causes measured."""
    name, value = observations["set"], observations["r2"]
    threshold, budget = settings.r2_min(name), observations["budget"]
    details.update(r2=round(value, 4), threshold=threshold, epochs=budget["epochs"], batch_size=budget["batch_size"])
    if value >= threshold:
        return
    causes = [problem for problem in (
        scale_problem(observations["feature_std"], settings.max_std_ratio),
        layout_problem(observations["sample_shape"]), output_problem(observations["output_shape"]),
        prediction_problem(observations["predictions"], observations["target"]),
        learning_rate_problem(observations["learning_rate"], settings.min_learning_rate)) if problem]
    raise CheckFailed(
        f"R² on the held-out {name} set is {value:.3f}, below {threshold:g} (the grader trained your model "
        f"for {budget['epochs']} epochs, batch size {budget['batch_size']}, on {budget['samples']} samples)"
        + (". Likely causes:" + "".join(f"\n- {cause}" for cause in causes) if causes else ""))
