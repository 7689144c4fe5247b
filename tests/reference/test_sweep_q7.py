"""The q7 heatmap checks on many seeds: each known mistake loses exactly its checks, legitimate forms none.

For each seed the grader's own trusted setup is built (graders.test_q7_gradcam._trusted_setup: the
reference CNN and the graded cases, cached like a grading's), then every mistake's maps
(q7_variants.mistake_maps, computed as a student's grad_cam would) and every legitimate form of the
reference's maps (q7_variants.legitimate_forms) go through the grader's decisions
(q7_heatmaps.HeatmapJudge), in-process: the decision is the same as a full grading's without 20
gradings per mistake. Cost: the reference CNN of each seed trains once (~15 s here on a cold cache,
then cached); the sweep itself takes ~3 s a seed.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graders import test_q7_gradcam as grader  # noqa: E402
from graders.core.mnist import load_mnist  # noqa: E402
from graders.core.rubric import Rubric  # noqa: E402
from graders.questions.q7 import (
    heatmaps,  # noqa: E402
    reference_model,  # noqa: E402
    variants,  # noqa: E402
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy")]

SEEDS = list(range(1, 21))
HEATMAP_CHECKS = ("shape", "nonnegative", "normalised", "logit", "correlation", "top_overlap", "class_sensitivity",
                  "randomisation")
# Each known mistake's checks (and the diagnosis its messages name); legitimate forms lose none.
EXPECTED = {
    "no_relu": ({"nonnegative"}, "no_relu"),
    "min_max_scaled": ({"nonnegative"}, "no_relu"),
    "not_normalised": ({"normalised"}, "correct"),
    "softmax_gradient": ({"logit"}, "softmax_gradient"),
    "unpooled_gradients": ({"correlation", "top_overlap"}, "unpooled_gradients"),
    "unweighted_activations": ({"correlation", "top_overlap", "randomisation"}, "unweighted_activations"),
    "ignored_class_index": ({"class_sensitivity"}, "correct"),
    "class_zero_as_none": ({"class_sensitivity"}, "correct"),
    "softmax_ignored_class_index": ({"logit", "class_sensitivity"}, "softmax_gradient"),
    "layer:conv1": ({"shape", "correlation", "top_overlap"}, "wrong_layer"),
    "layer:conv2": ({"shape", "correlation", "top_overlap"}, "wrong_layer"),
    "all_zero": (set(HEATMAP_CHECKS) - {"shape"}, "constant"),
}
CLASS_MISTAKES = {"ignored_class_index": "ignored_class_index", "class_zero_as_none": "class_zero_as_none",
                  "softmax_ignored_class_index": "ignored_class_index"}


def judge_answer(setup, settings, returned, trained_random, randomised) -> tuple[set[str], heatmaps.HeatmapJudge, dict]:
    """The heatmap checks an answer fails, decided as the grader decides them.

    Args:
        returned: the maps of the graded cases as a student's grad_cam returned them.
        trained_random, randomised: its maps of the randomisation digits on the trained and the
            randomised model.
    """
    allowed = [setup.reference.layer_shapes[setup.layer], setup.grid]
    verdicts = {"shape": heatmaps.shape_verdict([np.shape(m) for m in returned], allowed)}
    maps = [grader.as_2d(m, "case") for m in returned]
    judge = heatmaps.HeatmapJudge(maps, setup.cases, setup.reference.variants, settings,
                                  grader.value_limits(settings, setup.reference, setup.grid), setup.grid)
    verdicts.update({name: getattr(judge, name)() for name in HEATMAP_CHECKS if name not in ("shape", "randomisation")})
    verdicts["randomisation"] = heatmaps.randomisation_verdict(
        [grader.as_2d(m, "t") for m in trained_random], [grader.as_2d(m, "r") for m in randomised],
        maximum=settings.random_max_correlation, grid=setup.grid)
    return {name for name, verdict in verdicts.items() if not verdict.passed}, judge, verdicts


def seed_answers(seed: int, settings) -> tuple[object, dict]:
    """The grader's setup for `seed`, and {answer name: (returned, trained_random, randomised)}."""
    split = load_mnist(seed=seed)
    setup = grader._trusted_setup(split, seed, settings)
    model, randomised = reference_model.load(setup.model_path), reference_model.load(setup.random_path)
    cases, layer = setup.cases, setup.layer
    images = setup.images[[case.digit for case in cases]]
    digits = setup.reference.selection.random_digits
    asked_random = [int(setup.reference.selection.predicted[d]) for d in digits]
    mistakes = variants.mistake_maps(model, images, [case.asked for case in cases], layer_name=layer)
    on_trained = variants.mistake_maps(model, setup.images[digits], asked_random, layer_name=layer)
    on_random = variants.mistake_maps(randomised, setup.images[digits], asked_random, layer_name=layer)
    answers = {name: (list(mistakes[name]), list(on_trained[name]), list(on_random[name])) for name in EXPECTED}
    forms = variants.legitimate_forms(mistakes["correct"], setup.grid)
    forms_trained = variants.legitimate_forms(on_trained["correct"], setup.grid)
    forms_random = variants.legitimate_forms(on_random["correct"], setup.grid)
    answers.update({f"legit:{name}": (forms[name], forms_trained[name], forms_random[name]) for name in forms})
    return setup, answers


@pytest.fixture(scope="module")
def settings():
    return Rubric.load().section("q7", grader.Settings)


@pytest.mark.parametrize("seed", SEEDS)
def test_each_mistake_loses_exactly_its_checks_and_legitimate_forms_none(seed, settings):
    setup, answers = seed_answers(seed, settings)
    assert {case.role for case in setup.cases} == set(variants.ROLES)
    assert any(case.class_index == 0 and not case.predicted for case in setup.cases)
    problems = []
    for name, (returned, trained, randomised) in answers.items():
        failed, judge, verdicts = judge_answer(setup, settings, returned, trained, randomised)
        expected, diagnosis = EXPECTED.get(name, (set(), None))
        if failed != expected:
            problems.append(f"{name}: failed {sorted(failed)}, expected {sorted(expected)}")
        if diagnosis is not None and judge.diagnosis.closest != diagnosis:
            problems.append(f"{name}: diagnosed {judge.diagnosis.closest}, expected {diagnosis}")
        if name in CLASS_MISTAKES and verdicts["class_sensitivity"].evidence.get("mistake") != CLASS_MISTAKES[name]:
            problems.append(f"{name}: class mistake {verdicts['class_sensitivity'].evidence.get('mistake')!r}")
        if name == "min_max_scaled" and not verdicts["nonnegative"].evidence.get("kept_negative_evidence"):
            problems.append("min_max_scaled: not recognised as kept negative evidence")
    assert not problems, f"seed {seed}:\n" + "\n".join(problems)
