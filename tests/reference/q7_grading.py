"""q7's heatmap checks in this process, decided by the grader's own checks: on a batched answer
(tests/reference/q7_answers.py: the seed sweep) or on a namespace's `grad_cam` called one image at a time, as
the worker calls it (tests/mutation/: a one-token mutant of the reference's grad_cam).

For the mutants, the trusted setup of a seed (its cases and the trusted maps) and the grader's CNNs are made
once and kept; pictures are left out (a report's).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from graders import test_q7_gradcam as grader
from graders.core.mnist import load_mnist
from graders.core.rubric import Rubric
from graders.questions.q7 import grader_model, pictures
from tests.reference import q7_answers
from tests.reference.in_process import TRUSTED, checks_of, run_check

HEATMAP_CHECKS = [check for check in checks_of(grader, needing=()) if check.id.startswith("q7.heatmap.")]


def grade(answer, graded, models, settings, seed, *, training=False, trusted_side=TRUSTED) -> dict:
    """{check (without "q7.heatmap."): outcome} of the heatmap checks on a batched `answer`."""
    student = q7_answers.GradCamStudent(answer, models, training=training)
    answers = grader.ask_student(student, settings, graded)
    maps = grader.student_maps(answers, graded)
    return {check.id.removeprefix("q7.heatmap."): run_check(check, student, seed, settings, trusted=trusted_side,
                                                             answers=answers, maps=maps, graded=graded, noted=None)
            for check in HEATMAP_CHECKS}


def one_call_at_a_time(grad_cam):
    """A batched answer (q7_answers' form) that calls `grad_cam(model, image, layer_name[, class_index])` per image."""
    def answer(model, images, layer_name, asked):
        return [np.asarray(grad_cam(model, image, layer_name) if cls is q7_answers.OMITTED
                           else grad_cam(model, image, layer_name, cls)) for image, cls in zip(images, asked)]

    return answer


def q7_lost(names: dict, seed: int, *, first_only: bool = False) -> dict[str, str]:
    """{check id: its message} of the heatmap checks that `names["grad_cam"]` fails at `seed`
    (`first_only`: the first of them)."""
    kept = pictures.overlay_png, pictures.digit_overlays
    pictures.overlay_png, pictures.digit_overlays = (lambda rows: ""), (lambda *args: [])
    try:
        settings = _settings()
        outcomes = grade(one_call_at_a_time(names["grad_cam"]), _graded(seed), _models(), settings, seed)
    finally:
        pictures.overlay_png, pictures.digit_overlays = kept
    lost = {f"q7.heatmap.{check}": str(outcome.failure) for check, outcome in outcomes.items() if not outcome.passed}
    return dict(list(lost.items())[:1]) if first_only else lost


@cache
def _settings():
    return Rubric.load().section("q7", grader.Settings)


@cache
def _models() -> dict:
    return {name: grader_model.load(path) for name, path in grader_model.model_paths().items()}


@cache
def _graded(seed: int):
    return grader.trusted_setup(TRUSTED, load_mnist(seed=seed), seed, _settings())
