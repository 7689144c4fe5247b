"""q7's heatmap checks in this process on a namespace's `grad_cam` called one image at a time, as the worker
calls it (tests/mutation/: a one-token mutant of the reference's grad_cam).

The trusted setup of a seed (its cases and the trusted maps) and the grader's CNNs are made once and kept;
each call gets the image without its batch axis and `class_index` as the grading passes it (left out where
the grading leaves it out). Pictures are left out (a report's).
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


@cache
def _settings():
    return Rubric.load().section("q7", grader.Settings)


@cache
def _models() -> dict:
    return {name: grader_model.load(path) for name, path in grader_model.model_paths().items()}


@cache
def _graded(seed: int):
    return grader.trusted_setup(TRUSTED, load_mnist(seed=seed), seed, _settings())


def one_call_at_a_time(grad_cam):
    """A batched answer (q7_answers' form) that calls `grad_cam(model, image, layer_name[, class_index])` per image."""
    def answer(model, images, layer_name, asked):
        maps = []
        for image, cls in zip(images, asked):
            if cls is q7_answers.OMITTED:
                maps.append(np.asarray(grad_cam(model, image, layer_name)))
            else:
                maps.append(np.asarray(grad_cam(model, image, layer_name, cls)))
        return maps

    return answer


def q7_lost(names: dict, seed: int, *, first_only: bool = False) -> dict[str, str]:
    """{check id: its message} of the heatmap checks that `names["grad_cam"]` fails at `seed`."""
    kept = pictures.overlay_png, pictures.digit_overlays
    pictures.overlay_png, pictures.digit_overlays = (lambda rows: ""), (lambda *args: [])
    try:
        settings, graded = _settings(), _graded(seed)
        student = q7_answers.GradCamStudent(one_call_at_a_time(names["grad_cam"]), _models())
        answers = grader.ask_student(student, settings, graded)
        maps = grader.student_maps(answers, graded)
        lost = {}
        for check in HEATMAP_CHECKS:
            outcome = run_check(check, student, seed, settings, trusted=TRUSTED, answers=answers, maps=maps,
                                graded=graded, noted=None)
            if not outcome.passed:
                lost[check.id] = str(outcome.failure)
                if first_only:
                    break
        return lost
    finally:
        pictures.overlay_png, pictures.digit_overlays = kept
