"""The calibration of q7's heatmap thresholds (graders/rubric.toml [q7]): what each check observes, for every
known mistake and every legitimate form of the right answer, over seeds, on the grader's CNN.

    python -m tests.reference.calibrate_q7 [SEED ...]      # default: 1234 and 1..24

Prints, per statistic a threshold applies to, its range over the seeds for each answer (a maintainer's
tool, not a test: tests/reference/test_sweep_q7.py replays the verdicts).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections import defaultdict

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def statistics(observations: dict) -> dict[str, float]:
    """{statistic: value} of one answer at one seed, from its checks' observations (by check)."""
    nonneg, norm = observations["nonnegative"], observations["normalised"]
    layer_sized = [m for m, up in zip(nonneg["minima"], nonneg["upsampled"]) if not up]
    upsampled = [m for m, up in zip(nonneg["minima"], nonneg["upsampled"]) if up]
    constant = set(norm["constant"])
    peaks = [m for i, m in enumerate(norm["maxima"]) if i not in constant]
    rows = nonneg["negative_evidence"]
    with_relu, without = [r["r_with_relu"] for r in rows], [r["r_without_relu"] for r in rows]
    logit = observations["logit"]["rows"]
    pairs = observations["class_sensitivity"]["pairs"]
    random = observations["randomisation"]
    informative = [r for r, flat in zip(random["r"], random["constant"]) if not flat]
    layer = observations["layer_name"]["rows"]
    return {
        "min (layer size)": min(layer_sized, default=np.nan), "min (upsampled)": min(upsampled, default=np.nan),
        "peak low": min(peaks, default=np.nan), "peak high": max(peaks, default=np.nan),
        "neg. evidence r without relu": float(np.mean(without)) if rows else np.nan,
        "neg. evidence margin": float(np.mean(np.subtract(without, with_relu))) if rows else np.nan,
        "logit - softmax r": (float(np.mean([r["r_logit"] - r["r_softmax"] for r in logit])) if logit else np.nan),
        "softmax r": float(np.mean([r["r_softmax"] for r in logit])) if logit else np.nan,
        "worst map r": min(r["r"] for r in observations["correlation"]["rows"]),
        "mean top overlap": float(np.mean(observations["top_overlap"]["overlaps"])),
        "class margin (max)": max((p["r_student"] - p["r_expected"] for p in pairs), default=np.nan),
        "randomisation mean r": float(np.mean(informative)) if informative else np.nan,
        "layer: r with own last-conv map (max)": max(r["r_with_last_conv_map"] for r in layer),
    }


def observe_all(answer, graded, models, settings, *, training=False) -> dict:
    """{check name: observations} of the heatmap checks on `answer` (pictures left out)."""
    from graders import test_q7_gradcam as grader
    from graders.harness.checks import CheckContext
    from tests.reference import q7_answers
    from tests.reference.test_sweep_q7 import HEATMAP_CHECKS

    student = q7_answers.GradCamStudent(answer, models, training=training)
    answers = grader.ask_student(student, settings, graded)
    fixtures = {"answers": answers, "maps": grader.student_maps(answers, graded), "graded": graded,
                "settings": settings, "student": student, "noted": None}
    found = {}
    for check in HEATMAP_CHECKS:
        context = CheckContext(check.id, 1.0, False)
        wanted = inspect.signature(check.function).parameters
        check.function(**{name: value for name, value in {**fixtures, "check": context}.items() if name in wanted})
        found[check.id.removeprefix("q7.heatmap.")] = context.observations
    return found


def main(seeds: list[int]) -> None:
    from graders import test_q7_gradcam as grader
    from graders.core.mnist import load_mnist
    from graders.core.rubric import Rubric
    from graders.questions.q7 import grader_model, pictures
    from tests.reference.in_process import TRUSTED
    from tests.reference.test_sweep_q7 import answers_to_grade

    pictures.overlay_png = lambda rows: ""
    pictures.digit_overlays = lambda *args: []
    settings = Rubric.load().section("q7", grader.Settings)
    models = {name: grader_model.load(path) for name, path in grader_model.model_paths().items()}
    spread: dict = defaultdict(lambda: defaultdict(list))
    for seed in seeds:
        graded = grader.trusted_setup(TRUSTED, load_mnist(seed=seed), seed, settings)
        if graded.setup.selection.notes:
            print(f"seed {seed}: {graded.setup.selection.notes}")
        for name, answer, training in answers_to_grade():
            for statistic, value in statistics(observe_all(answer, graded, models, settings,
                                                           training=training)).items():
                spread[statistic][name].append(value)
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    for statistic, by_answer in spread.items():
        print(f"\n{statistic}")
        for name, values in by_answer.items():
            values = np.array(values, dtype=float)
            if np.isfinite(values).any():
                print(f"  {name:36s} {np.nanmin(values):8.3f} .. {np.nanmax(values):8.3f}")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1234, *range(1, 25)])
