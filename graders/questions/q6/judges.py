"""q6's rubric settings and the judges of its checks: the forward pass call by call, FC_BN_PARAMS, Q6A_ANSWER.

A forward-pass check observes, for each call, the student's outputs it is about and the reference's
(whole arrays: the message names the worst element), and for every known mistake how far its result
lies from the student's and from the reference's as an excess frontier (graders/core/closeness.py): a
few numbers that decide exactly, under any tolerance, whether the mistake changes the result and which
one the student's is closest to. Every tolerance is read here only, so a rescore under other
tolerances is a fresh grading.

FC_BN_PARAMS and Q6A_ANSWER are the same whatever the seed: a failure says which key is wrong and
why, never the expected value, which the details keep for the TA (`answer`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graders.core import closeness
from graders.core.compare import degenerate_answer, require_close
from graders.core.errors import CheckFailed, require
from graders.core.judging import Judges
from graders.questions.q6.mistakes import FC_BN_HINTS, FC_BN_KEYS, FC_BN_MISTAKES, MISTAKES

SHAPE_MISMATCH = 50.0  # the distance of an output of the wrong shape: beyond any numeric difference
SAME_AS_REFERENCE = "reference"  # a mistake's output that is the reference's, bit for bit


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q6]: (atol, rtol) of y for float64 and float32 inputs, and of the moving statistics.

    Every one is judged: the cases are the grader's own, drawn from the seed."""

    atol: float
    rtol: float
    atol_moving: float
    rtol_moving: float
    atol_float32: float
    rtol_float32: float

    def tolerance(self, output: str, precision: str = "float64") -> tuple[float, float]:
        """(atol, rtol) of one output: y's loosest for float32 inputs; the moving statistics are an exact
        weighted sum, tight enough to see an N - 1 in a 1 % update."""
        if output != "y":
            return self.atol_moving, self.rtol_moving
        return (self.atol_float32, self.rtol_float32) if precision == "float32" else (self.atol, self.rtol)


JUDGES = Judges("q6")


@JUDGES("forward")
def forward(observations: dict, settings: Settings, details: dict) -> None:
    """The forward-pass calls of one check, in the order they were made; the first wrong one fails it."""
    if observations["representations"]:
        details["representations"] = observations["representations"]
    for step in observations["steps"]:
        {"compare": _compare, "per_channel": _per_channel, "varies": _varies}[step["kind"]](step, settings)


def _compare(step: dict, settings: Settings) -> None:
    """The student's outputs of one call against the reference's; a failure names the closest known mistake."""
    what, precision = step["what"], step["precision"]
    names = list(step["outputs"])
    actual = {name: step["outputs"][name]["actual"] for name in names}
    expected = {name: step["outputs"][name]["expected"] for name in names}
    if "y" in names:
        _require_depends_on_x(actual["y"], expected["y"], what)
    try:
        for name in names:
            atol, rtol = settings.tolerance(name, precision)
            require_close(actual[name], expected[name], what=f"{name} of {what}", atol=atol, rtol=rtol)
    except CheckFailed as failure:
        if any(degenerate_answer(actual[name], expected[name]) for name in names):
            raise  # a placeholder is no known mistake: its message says what it is
        diagnosis = _closest_mistake(step, settings)
        raise CheckFailed(f"{failure}{_describe(diagnosis)}",
                          diagnosis=None if diagnosis is None else diagnosis[0].name) from None


def _per_channel(step: dict, settings: Settings) -> None:
    """An image batch's moving statistics against the same pixels' as an (N*H*W, C) batch."""
    for name, pair in step["outputs"].items():
        atol, rtol = settings.tolerance(name)
        require_close(pair["image"], pair["flat"], atol=atol, rtol=rtol,
                      what=f"{name} of {step['what']}, against the same pixels as an (N*H*W, C) batch: the statistics "
                           "of an image batch are per channel, over N, H and W; here they are not")


def _varies(step: dict, settings: Settings) -> None:
    _require_depends_on_x(step["actual"], step["expected"], step["what"])


def _require_depends_on_x(y, expected, what: str) -> None:
    """A y that is the same for every sample (a placeholder, x left out) is right only by accident."""
    y, expected = np.asarray(y), np.asarray(expected)
    if y.shape != expected.shape or y.ndim < 2:
        return
    per_sample, want = y.reshape(-1, y.shape[-1]), expected.reshape(-1, expected.shape[-1])
    varies = np.ptp(want, axis=0) > 0
    if len(per_sample) > 1 and np.any(varies) and np.all(np.ptp(per_sample, axis=0) == 0):
        constant = "0 everywhere" if not np.any(per_sample) else "the same for every sample"
        raise CheckFailed(f"y of {what} is {constant}: it does not depend on x. BatchNorm normalises each "
                          "sample: (x - mean) / sqrt(var + epsilon) * gamma + beta")


def _closest_mistake(step: dict, settings: Settings):
    """`(mistake, matches)`: the known mistake nearest to the student's result, if nearer than the right
    answer; a mistake that changes nothing on this call (within the tolerances) says nothing."""
    names = list(step["outputs"])
    tolerance = {name: settings.tolerance(name, step["precision"]) for name in names}
    student = {name: closeness.frontier(step["outputs"][name]["actual"], step["outputs"][name]["expected"])
               for name in names}
    best, best_distance = None, _distance(student, tolerance)
    for mistake in MISTAKES:
        result = step["mistakes"].get(mistake.name)
        if result is None:
            continue  # it cannot run on these inputs
        if all(result[name] == SAME_AS_REFERENCE or closeness.matches(result[name]["same"], *tolerance[name])
               for name in names):
            continue
        near = {name: student[name] if result[name] == SAME_AS_REFERENCE else result[name]["near"] for name in names}
        distance = _distance(near, tolerance)
        if distance < best_distance:
            best, best_distance = mistake, distance
    return None if best is None else (best, best_distance == 0.0)


def _distance(frontiers: dict, tolerance: dict) -> float:
    """Sum over the outputs of log(1 + how many tolerances apart); 0 when all are within tolerance."""
    return sum(closeness.distance(points, *tolerance[name], shape_mismatch=SHAPE_MISMATCH)
               for name, points in frontiers.items())


def _describe(diagnosis) -> str:
    """The sentence a failure message ends with."""
    if diagnosis is None:
        return ""
    mistake, matches = diagnosis
    lead = "This matches a known mistake" if matches else "The closest known mistake"
    return f"\n{lead}: {mistake.name}: {mistake.explanation}."


# -- the seed-independent answers --------------------------------------------------------

@JUDGES("fc_bn_params")
def fc_bn_params(observations: dict, settings: Settings, details: dict) -> None:
    """Each key of FC_BN_PARAMS right, or named with what its count is made of (never the count)."""
    actual, answer, known = observations["actual"], observations["answer"], observations["mistakes"]
    if observations["representations"]:
        details["representations"] = observations["representations"]
    wrong = [key for key in FC_BN_KEYS if actual[key] != answer[key]]
    details.update(answer=answer, wrong_keys=wrong)
    problems, named = [], []
    for key in wrong:
        text = f"{key} = {actual[key]} is not right: {FC_BN_HINTS[key]}"
        mistake = next((m for m in FC_BN_MISTAKES if known.get(m.name, {}).get(key) == actual[key]), None)
        if mistake is not None:
            text += f" (a known mistake gives it: {mistake.name}: {mistake.explanation})"
            named.append(mistake.name)
        problems.append(text)
    require(not problems, lambda: "FC_BN_PARAMS: " + "; ".join(problems),
            diagnosis="; ".join(dict.fromkeys(named)) or None)


@JUDGES("q6a")
def q6a(observations: dict, settings: Settings, details: dict) -> None:
    """The number of the true statement (a wrong one is named, the right one is not)."""
    answer = observations["answer"]
    details["answer"] = answer
    require(observations["actual"] == answer,
            lambda: f"Q6A_ANSWER: statement {observations['actual']} is not the true one about BatchNorm")
