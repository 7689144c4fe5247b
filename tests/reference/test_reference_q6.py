"""q6: the NumPy reference equals keras.layers.BatchNormalization, and the grader's checks work.

The grader's checks run in-process on a fake student (tests/reference/in_process.py): every known
mistake loses exactly the checks its catalogue entry names (`loses`), named, at the default seed;
tests/reference/test_sweep_q4_q5_q6.py sweeps the seeds, the tolerance margins and the correct variants.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import inspect
import json

import keras
import numpy as np
import pytest

from graders import test_q6_batchnorm as grader
from graders.core.errors import WrongType
from graders.core.judging import normalise
from graders.core.trusted import CheckedByTA
from graders.harness.checks import CheckContext
from graders.harness.plugin import check_rng
from graders.questions.q6 import mistakes, trusted
from graders.questions.q6.judges import Settings
from reference.q6_batchnorm import FC_BN_PARAMS, Q6A_ANSWER, batchnorm_forward
from tests.reference.in_process import (
    TRUSTED,
    FakeStudent,
    catalogued_mistakes,
    checks_of,
    diagnoses,
    failed,
    lost_checks,
    rubric_settings,
    run_checks,
)


def keras_batchnorm(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3,
                    dtype="float64"):
    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, dtype=dtype)
    layer.build(np.shape(x))
    for variable, value in zip((layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance),
                               (gamma, beta, moving_mean, moving_var)):
        variable.assign(value)
    y = layer(np.asarray(x, dtype=dtype), training=training)
    return tuple(np.asarray(value, dtype=np.float64) for value in (y, layer.moving_mean, layer.moving_variance))


def _case(seed, shape):
    rng = np.random.default_rng(seed)
    return grader._batch(rng, shape)


CASES = [((24, 5), {}), ((3, 4, 5, 3), {}), ((1, 4), {}), ((16, 6), {"momentum": 0.9, "epsilon": 0.05})]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape, hyper", CASES)
def test_reference_matches_keras(shape, hyper, training):
    case = _case(len(shape) * 100 + shape[0], shape)
    args = [case[name] for name in grader.PARAMETERS]
    expected = keras_batchnorm(*args, training=training, **hyper)
    for got, want, name in zip(batchnorm_forward(*args, training=training, **hyper), expected, grader.OUTPUTS):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)


def test_reference_zero_variance_matches_keras():
    case = _case(7, (12, 4))
    case["x"][:, 1] = 2.5
    args = [case[name] for name in grader.PARAMETERS]
    for got, want in zip(batchnorm_forward(*args, training=True), keras_batchnorm(*args, training=True)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_keras_moving_variance_uses_biased_variance():
    x = np.array([[0.0], [2.0]])  # biased variance 1, unbiased 2
    _, _, moving_var = keras_batchnorm(x, [1.0], [0.0], [0.0], [0.0], training=True, momentum=0.5)
    assert moving_var[0] == pytest.approx(0.5)


def test_fc_bn_params_match_keras():
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(20), keras.layers.BatchNormalization()])
    dense, norm = model.layers
    assert FC_BN_PARAMS == {
        "fc": dense.count_params(),
        "bn_trainable": sum(int(np.prod(w.shape)) for w in norm.trainable_weights),
        "bn_non_trainable": sum(int(np.prod(w.shape)) for w in norm.non_trainable_weights),
    }


# -- the grader's checks at the default seed (tests/reference/test_sweep_q4_q5_q6.py sweeps many) --

SETTINGS = rubric_settings("q6", Settings)
Q6_FORWARD = {check.id for check in checks_of(grader)} - {"q6.fc_bn_params", "q6.q6a"}
Y_TRAINING = {f"q6.{local}" for local in mistakes.Y_TRAINING}
BN_MISTAKES = [entry for entry in catalogued_mistakes("q6") if entry[0] == "batchnorm_forward"]


def allowed_diagnoses(mistake_name):
    """Both unbiased variances look the same to a check of the moving statistics only."""
    if "unbiased" in mistake_name:
        return {mistake_name, "unbiased variance in the moving update"}
    return {mistake_name}


def student_with(forward=batchnorm_forward, **constants):
    return FakeStudent({"batchnorm_forward": forward, "FC_BN_PARAMS": FC_BN_PARAMS, "Q6A_ANSWER": Q6A_ANSWER,
                        **constants})


def test_every_mistake_is_computed_by_the_trusted_side():
    assert [mistake.name for mistake in mistakes.MISTAKES] == list(trusted.FLAGS)
    assert all(mistake.loses for mistake in mistakes.MISTAKES)


@pytest.mark.parametrize("function, mistake, wrong", BN_MISTAKES, ids=lambda value: getattr(value, "name", None))
def test_each_mistake_loses_exactly_its_checks_and_is_named_at_the_default_seed(function, mistake, wrong):
    outcomes = run_checks(checks_of(grader), student_with(wrong), 1234, SETTINGS)
    assert failed(outcomes) == lost_checks("q6", mistake)
    assert diagnoses(outcomes) <= allowed_diagnoses(mistake.name)
    for check in failed(outcomes):
        assert "known mistake" in str(outcomes[check].failure), check


def test_batch_statistics_at_inference_lose_only_the_inference_check():
    """Issue 22: one mistake of one mode loses that mode's check, not conv4d's or epsilon's too."""
    wrong = trusted.FUNCTIONS["batchnorm_forward"]["batch statistics used at inference"]
    assert failed(run_checks(checks_of(grader), student_with(wrong), 1234, SETTINGS)) == {"q6.inference"}


def test_reference_passes_every_check_at_a_tiny_tolerance():
    outcomes = run_checks(checks_of(grader), student_with(), 1234, rubric_settings("q6", Settings, 1e-3))
    assert not failed(outcomes)


def test_a_right_answer_names_no_mistake_even_where_it_fails_a_tolerance_of_zero():
    outcomes = run_checks(checks_of(grader), student_with(), 1234, rubric_settings("q6", Settings, 0.0))
    assert diagnoses(outcomes) <= {None}


def test_a_moving_statistic_kept_with_keepdims_is_the_same_answer():
    case = _case(5, (3, 4, 5, 3))
    mean = batchnorm_forward(*[case[n] for n in grader.PARAMETERS], training=True)[1]
    notes = []
    for value in (mean.reshape(1, 1, 1, 3), mean.reshape(1, 3).tolist()):
        np.testing.assert_array_equal(grader.as_output(value, "new_moving_mean", "call", (3,), notes), mean)
    assert "new_moving_mean: shape (1, 1, 1, 3) read as (3,)" in notes and "new_moving_mean: a list" in notes


def test_a_graded_observation_stays_small():
    """Whole arrays for the outputs compared, a few frontier points per known mistake: a q6 grading's
    observations stay far below the results JSON's budget."""
    outcomes_size = 0
    for check in checks_of(grader):
        context = CheckContext(id=check.id, points=1.0, hidden=False)
        check.function(**{name: value for name, value in {
            "student": student_with(), "trusted": TRUSTED, "rng": check_rng(1234, check.id), "check": context,
            **check.params}.items() if name in inspect.signature(check.function).parameters})
        outcomes_size += len(json.dumps(normalise(context.observations)))
    print(f"q6 observations: {outcomes_size} characters")
    assert outcomes_size < 150_000, outcomes_size


# -- FC_BN_PARAMS and Q6A_ANSWER: the message says which key is wrong and why, never the answer -------

FC_BN_WRONG = {mistake.name: {**FC_BN_PARAMS, **trusted.COMPUTE["mistakes.fc_bn_params"]()[mistake.name]}
               for mistake in mistakes.FC_BN_MISTAKES}


@pytest.mark.parametrize("name", sorted(FC_BN_WRONG))
def test_each_fc_bn_mistake_loses_its_check_named_without_the_answer(name):
    outcomes = run_checks(checks_of(grader), student_with(FC_BN_PARAMS=FC_BN_WRONG[name]), 1234, SETTINGS)
    assert failed(outcomes) == {"q6.fc_bn_params"}
    outcome = outcomes["q6.fc_bn_params"]
    assert outcome.diagnosis == name and outcome.details["answer"] == FC_BN_PARAMS
    message = str(outcome.failure)
    wrong = [key for key in FC_BN_PARAMS if FC_BN_WRONG[name][key] != FC_BN_PARAMS[key]]
    assert outcome.details["wrong_keys"] == wrong and all(f"{key} = " in message for key in wrong)
    assert not any(str(FC_BN_PARAMS[key]) in message for key in wrong), message


def test_a_wrong_q6a_answer_is_named_and_the_right_one_is_not():
    wrong = Q6A_ANSWER % 4 + 1
    outcome = run_checks(checks_of(grader), student_with(Q6A_ANSWER=wrong), 1234, SETTINGS)["q6.q6a"]
    assert f"statement {wrong} is not the true one" in str(outcome.failure)
    assert str(Q6A_ANSWER) not in str(outcome.failure) and outcome.details["answer"] == Q6A_ANSWER


@pytest.mark.parametrize("value, fragment", [
    ({"fc": 220, "bn_trainable": 40}, "no key 'bn_non_trainable'"), ([220, 40, 40], "should be a dict"),
    ({"fc": 220.5, "bn_trainable": 40, "bn_non_trainable": 40}, "expected an integer")])
def test_the_form_of_fc_bn_params_is_checked_before_its_answer_is_asked_for(value, fragment):
    class AnswerlessSide:  # the student kit's side: no seed-independent answer
        def value(self, question, kind, **inputs):
            raise CheckedByTA(kind)

    check = next(check for check in checks_of(grader) if check.id == "q6.fc_bn_params")
    with pytest.raises(WrongType, match=fragment):
        check.function(student=student_with(FC_BN_PARAMS=value), trusted=AnswerlessSide(),
                       check=CheckContext(id=check.id, points=1.0, hidden=False))
    with pytest.raises(CheckedByTA):  # a well-formed answer: the kit says the TA checks it
        check.function(student=student_with(), trusted=AnswerlessSide(),
                       check=CheckContext(id=check.id, points=1.0, hidden=False))


# -- every seed can be graded ------------------------------------------------------------------

class ReferenceOnlySide:
    """The trusted side without the known mistakes (their results do not decide which cases are drawn)."""

    def value(self, question, kind, **inputs):
        return {} if kind.startswith("mistakes.") else TRUSTED.value(question, kind, **inputs)


def test_every_check_draws_its_cases_and_the_reference_passes_them_on_200_seeds():
    """Issue 22: no seeded draw runs out of cases (a feature to hold constant, an epsilon, a momentum, an
    image shape) on any seed, and the reference passes what is drawn."""
    checks, student, side = checks_of(grader), student_with(), ReferenceOnlySide()
    for seed in [1234, *range(199)]:
        outcomes = run_checks(checks, student, seed, SETTINGS, trusted=side)
        assert not failed(outcomes), (seed, {check: str(o.failure) for check, o in outcomes.items() if not o.passed})
