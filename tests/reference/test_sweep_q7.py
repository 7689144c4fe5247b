"""The q7 heatmap checks on many seeds: each known mistake loses exactly its checks, legitimate forms none.

For each seed the grader's own trusted setup is made (graders.test_q7_gradcam.trusted_setup: the cases
and maps of the trusted side, cached like a grading's), then every mistake's answer and every
legitimate form of the right one (tests/reference/q7_answers.py, computed as a student's grad_cam would
return them) goes through the grader's own checks in-process: its probe request, its observations and
its judges, as a grading decides, without a grading per answer. The grader's CNN is the same on every
run (trained once, deterministically), so the sweep is deterministic. Pictures are left out (a report's).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import inspect  # noqa: E402
import zlib  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graders import test_q7_gradcam as grader  # noqa: E402
from graders.core.mnist import load_embedded_mnist, load_mnist  # noqa: E402
from graders.core.rubric import Rubric  # noqa: E402
from graders.core.seeds import DEFAULT_SEED  # noqa: E402
from graders.core.trusted import request_key  # noqa: E402
from graders.questions.q7 import grader_model, pictures, trusted  # noqa: E402
from graders.questions.q7.cases import ROLES  # noqa: E402
from tests.reference import q7_answers  # noqa: E402
from tests.reference.in_process import TRUSTED  # noqa: E402
from tests.reference.q7_grading import HEATMAP_CHECKS, grade  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy"),
              pytest.mark.filterwarnings("ignore:The structure of `inputs` doesn't match")]

SEEDS = list(range(1, 13))
ALL = {check.id.removeprefix("q7.heatmap.") for check in HEATMAP_CHECKS}
PATTERN = {"correlation", "top_overlap"}
# Each known mistake's checks and the diagnosis their messages name; legitimate forms lose none.
EXPECTED = {
    "no_relu": ({"nonnegative"}, "no_relu"),
    "min_max_scaled": ({"nonnegative"}, "min_max_scaled"),
    "not_normalised": ({"normalised"}, "not_normalised"),
    "softmax_gradient": ({"logit"}, "softmax_gradient"),
    "unpooled_gradients": (PATTERN, "unpooled_gradients"),
    "unweighted_activations": (PATTERN | {"randomisation"}, "unweighted_activations"),
    "ignored_class_index": ({"class_sensitivity"}, "ignored_class_index"),
    "class_zero_as_none": ({"class_sensitivity"}, "class_zero_as_none"),
    "softmax_ignored_class_index": ({"logit", "class_sensitivity"}, None),
    "always_conv1": ({"shape", "layer_name"} | PATTERN, "wrong_layer"),
    "always_conv2": ({"shape", "layer_name"} | PATTERN, "wrong_layer"),
    "ignored_layer_name": ({"layer_name"}, "ignored_layer_name"),
    "training_mode": (PATTERN | {"class_sensitivity"}, "training_mode"),
    "all_zero": (ALL - {"shape"}, "constant"),
}


@pytest.fixture(scope="module")
def settings():
    return Rubric.load().section("q7", grader.Settings)


@pytest.fixture(scope="module")
def models():
    return {name: grader_model.load(path) for name, path in grader_model.model_paths().items()}


@pytest.fixture
def no_pictures(monkeypatch):
    monkeypatch.setattr(pictures, "overlay_png", lambda rows: "")
    monkeypatch.setattr(pictures, "digit_overlays", lambda *args: [])


def answers_to_grade():
    """(name, answer, training mode) of every mistake and every legitimate form."""
    return ([(name, answer, name == "training_mode") for name, answer in q7_answers.MISTAKES.items()]
            + [(f"legit:{name}", answer, False) for name, answer in q7_answers.legitimate_forms().items()])


def test_every_parameter_and_default_of_the_contract_has_a_variant():
    """The contract's parameters, read from the reference: each (and each default) has a variant that ignores
    (changes) it, which the sweep grades on every seed; build_mnist_cnn() takes none."""
    from reference.q7_gradcam import build_mnist_cnn, grad_cam

    parameters = inspect.signature(grad_cam).parameters.values()
    wanted = {p.name for p in parameters} | {f"{p.name}={p.default!r}" for p in parameters if p.default is not p.empty}
    assert set(q7_answers.argument_variants()) == wanted, "a parameter or default without a variant"
    assert not inspect.signature(build_mnist_cnn).parameters


@pytest.mark.parametrize("seed", SEEDS)
def test_each_mistake_loses_exactly_its_checks_and_legitimate_forms_none(seed, settings, models, no_pictures):
    graded = grader.trusted_setup(TRUSTED, load_mnist(seed=seed), seed, settings)
    assert {case.role for case in graded.setup.cases} == set(ROLES)
    assert not graded.setup.selection.notes, graded.setup.selection.notes  # no fallback needed on these seeds
    problems = []
    for name, answer, training in answers_to_grade():
        outcomes = grade(answer, graded, models, settings, seed, training=training)
        failed = {check for check, outcome in outcomes.items() if not outcome.passed}
        expected, diagnosis = EXPECTED.get(name, (set(), None))
        if failed != expected:
            problems.append(f"{name}: failed {sorted(failed)}, expected {sorted(expected)}")
        named = {outcome.diagnosis for outcome in outcomes.values() if not outcome.passed}
        if diagnosis is not None and diagnosis not in named:
            problems.append(f"{name}: diagnoses {sorted(map(str, named))}, expected {diagnosis}")
    for argument, answer in q7_answers.argument_variants().items():  # every argument changes some verdict
        if all(outcome.passed for outcome in grade(answer, graded, models, settings, seed).values()):
            problems.append(f"a grad_cam that ignores (or changes the default of) {argument} loses nothing")
    assert not problems, f"seed {seed}:\n" + "\n".join(problems)


def test_the_case_selection_finds_its_cases_on_every_seed(settings, models):
    """200 seeds (and the public one): the selection never fails for lack of digits; it widens its pool or relaxes
    a criterion where it must, and says so. In-process and cheap: every seed's split draws from the same 5,000
    embedded digits, whose predictions and maps are computed once for all of them."""
    reference = load_embedded_mnist(seed=0)
    everything = np.concatenate([reference.x_train, reference.x_test])
    position = {image.tobytes(): i for i, image in enumerate(everything)}
    inputs = grader_model.as_model_input(everything)
    maps, random_maps = trusted.Maps(models["trained"], inputs), trusted.Maps(models["randomised"], inputs)
    wanted = settings.selection()
    counts = (wanted["n_clear"] * 4 + wanted["n_ambiguous"] * 2 + wanted["n_negative"], wanted["n_layer"],
              wanted["n_random"])
    noted = {}
    for seed in [DEFAULT_SEED, *range(200)]:
        split = load_embedded_mnist(seed=seed)
        index = np.array([position[image.tobytes()] for image in split.x_test])
        rng = np.random.default_rng([seed, zlib.crc32(b"q7.cases")])
        selection = trusted.select_cases(trusted.View(maps, index), trusted.View(random_maps, index), split.y_test, rng,
                                         layer=grader_model.LAST_CONV, other_layer=grader_model.OTHER_LAYER, **wanted)
        assert (len(selection.cases), len(selection.layer_digits), len(selection.random_digits)) == counts, seed
        assert {case.role for case in selection.cases} == set(ROLES), seed
        if selection.notes:
            noted[seed] = selection.notes
    assert len(noted) <= 10, noted  # fallbacks are rare, and said


class RecordingTrusted:
    """The trusted side, with every request it answers written down (as the student kit's recording does)."""

    def __init__(self):
        self.requests = []

    def value(self, question, kind, **inputs):
        self.requests.append(request_key(question, kind, inputs))
        return TRUSTED.value(question, kind, **inputs)


def test_what_q7_asks_the_trusted_side_depends_on_the_seed_alone_not_on_the_answer(settings, models, no_pictures):
    """So the kit can record it once, at the public seed: one request, made before any student code runs, whose
    inputs are the seed's test digits and the rubric's selection settings."""
    seen = []
    for answer in (q7_answers.CORRECT, q7_answers.MISTAKES["all_zero"]):
        recording = RecordingTrusted()
        graded = grader.trusted_setup(recording, load_mnist(seed=DEFAULT_SEED), DEFAULT_SEED, settings)
        outcomes = grade(answer, graded, models, settings, DEFAULT_SEED, trusted_side=recording)
        seen.append((recording.requests, {check for check, outcome in outcomes.items() if outcome.passed}))
    (first, passed_right), (second, passed_wrong) = seen
    assert first == second and len(first) == 1 and passed_right != passed_wrong
