"""Seed sweep of q4, q5 and q6: on every seed, each known mistake loses exactly its own checks and is
named, and the reference and the correct variants (other formulas, NumPy types, lists, keepdims
statistics, float32) pass everything.

The checks run in-process on fake students (tests/reference/in_process.py), with the same case
streams as a real grading (the run's seed and the check id), so the verdicts are a real grading's.
"""

import importlib.util
import math

import numpy as np
import pytest

from graders import test_q4_params as q4
from graders import test_q5_shapes as q5
from graders import test_q6_batchnorm as q6
from graders.core.errors import StudentException
from graders.questions.q4.judges import Settings as Q4Settings
from graders.questions.q5.judges import Settings as Q5Settings
from graders.questions.q6 import trusted as trusted6
from graders.questions.q6.judges import Settings as Q6Settings
from reference import q4_params as ref4
from reference import q5_shapes as ref5
from reference import q6_batchnorm as ref6
from tests.grading import SAMPLES as SAMPLES_DIR
from tests.grading import load_golden
from tests.reference.in_process import (
    FakeStudent,
    catalogued_mistakes,
    checks_of,
    diagnoses,
    failed,
    lost_checks,
    rubric_settings,
    run_checks,
)
from tests.reference.test_reference_q6 import (
    BN_MISTAKES,
    Q6_FORWARD,
    Y_TRAINING,
    allowed_diagnoses,
    keras_batchnorm,
)

pytestmark = pytest.mark.slow

# The default seed, 20 more, and three of the 64-bit kind a hidden run draws.
SEEDS = [1234, *range(20), 2**63 + 12345, 0x5EED_1234_5678_9ABC, 18_446_744_073_709_551_557]


def reference_names(module, names):
    return {name: getattr(module, name) for name in names}


Q4_NAMES = ("conv2d_params", "dense_params", "simple_rnn_params", "lstm_params", "gru_params")
Q5_NAMES = ("conv_output_size", "pool_output_size", "same_padding", "LAYER_TABLE")
Q6_NAMES = ("batchnorm_forward", "FC_BN_PARAMS", "Q6A_ANSWER")


def sweep(module, question, settings_type, names, expected_failures, expected_diagnosis=None, *, plain=True,
          seeds=SEEDS, factor=1.0):
    """Assert on every seed that `names` (the reference with some replaced) fail exactly `expected_failures`,
    each failure naming `expected_diagnosis` (a name, a set of names, or None for no requirement)."""
    checks = checks_of(module)
    settings = rubric_settings(question, settings_type, factor)
    for seed in seeds:
        outcomes = run_checks(checks, FakeStudent(names, plain=plain), seed, settings)
        messages = {check: str(outcome.failure) for check, outcome in outcomes.items() if not outcome.passed}
        assert failed(outcomes) == set(expected_failures), f"seed {seed}: {messages}"
        if expected_diagnosis is not None:
            allowed = {expected_diagnosis} if isinstance(expected_diagnosis, str) else set(expected_diagnosis)
            assert diagnoses(outcomes) <= allowed, f"seed {seed}: {messages}"


# -- q4 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("function, mistake, wrong", catalogued_mistakes("q4"),
                         ids=lambda value: getattr(value, "name", None))
def test_q4_each_mistake_loses_its_checks_on_every_seed(function, mistake, wrong):
    names = {**reference_names(ref4, Q4_NAMES), function: wrong}
    sweep(q4, "q4", Q4Settings, names, lost_checks("q4", mistake), mistake.name)


def square_kernel_only(kernel_size, in_channels, filters, use_bias=True):
    return kernel_size * kernel_size * in_channels * filters + (filters if use_bias else 0)


def test_q4_a_square_kernel_only_conv2d_loses_the_conv2d_check_on_every_seed():
    sweep(q4, "q4", Q4Settings, {**reference_names(ref4, Q4_NAMES), "conv2d_params": square_kernel_only},
          {"q4.conv2d"})
    outcome = run_checks(checks_of(q4)[:1], FakeStudent({"conv2d_params": square_kernel_only}), 1234,
                         rubric_settings("q4", Q4Settings))["q4.conv2d"]
    assert isinstance(outcome.failure, StudentException) and "(kh, kw) pair" in str(outcome.failure)


def numpy_q4():
    """Right counts computed with NumPy (np.int64 results), a kernel given as a list handled too."""
    def conv2d(kernel_size, in_channels, filters, use_bias=True):
        kernel = np.broadcast_to(np.asarray(kernel_size), (2,))
        return np.prod(kernel) * in_channels * filters + filters * np.int64(bool(use_bias))

    def gru(input_dim, units, reset_after=True):
        return np.float64(3 * (units * (input_dim + units) + units) + 3 * units * reset_after)  # an integral float

    return {"conv2d_params": conv2d, "dense_params": lambda n, u: np.int32(n * u + u),
            "simple_rnn_params": lambda d, u: np.array(u * (d + u + 1)),
            "lstm_params": lambda d, u: np.array([4 * u * (d + u + 1)]), "gru_params": gru}


@pytest.mark.parametrize("plain", [True, False], ids=["through the wire", "raw NumPy types"])
def test_q4_reference_and_numpy_answers_pass_on_every_seed(plain):
    sweep(q4, "q4", Q4Settings, reference_names(ref4, Q4_NAMES), set())
    sweep(q4, "q4", Q4Settings, numpy_q4(), set(), plain=plain)


# -- q5 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("function, mistake, wrong", catalogued_mistakes("q5"),
                         ids=lambda value: getattr(value, "name", None))
def test_q5_each_mistake_loses_its_checks_on_every_seed(function, mistake, wrong):
    names = {**reference_names(ref5, Q5_NAMES), function: wrong}
    sweep(q5, "q5", Q5Settings, names, lost_checks("q5", mistake), mistake.name)


def unrounded_conv(size, kernel, stride=1, padding="valid", dilation=1):
    """typical_mistakes' conv_output_size: no floor and no +1 (floats)."""
    k = dilation * (kernel - 1) + 1
    return math.ceil(size / stride) if padding == "same" else (size - k) / stride


def test_q5_unrounded_division_loses_the_valid_checks_on_every_seed():
    sweep(q5, "q5", Q5Settings, {**reference_names(ref5, Q5_NAMES), "conv_output_size": unrounded_conv},
          {"q5.conv.valid", "q5.conv.strided", "q5.conv.dilated"}, {"no +1", None})  # None: "expected an integer"


def other_q5_formulas():
    """Right answers written as other courses write them: PyTorch's formula, TF's padding rule,
    NumPy results, a list or an array for the pair."""
    def conv(size, kernel, stride=1, padding="valid", dilation=1):
        if padding.upper() == "SAME":
            return -(-size // stride)
        return np.floor((size + 2 * 0 - dilation * (kernel - 1) - 1) / stride) + 1  # an integral np.float64

    def pool(size, pool_size, stride=None, padding="valid"):
        stride = stride or pool_size
        return np.int64(math.ceil(size / stride) if padding == "same" else math.floor((size - pool_size) / stride) + 1)

    def padding(size, kernel, stride=1, dilation=1):
        k = dilation * (kernel - 1) + 1
        total = max(k - stride, 0) if size % stride == 0 else max(k - size % stride, 0)  # TF's documented rule
        return [total // 2, total - total // 2] if kernel % 2 else np.array([total // 2, total - total // 2])

    table = [([None, *shape] if shape else None, np.int64(params)) for shape, params in ref5.LAYER_TABLE]
    return {"conv_output_size": conv, "pool_output_size": pool, "same_padding": padding, "LAYER_TABLE": table}


@pytest.mark.parametrize("plain", [True, False], ids=["through the wire", "raw NumPy types"])
def test_q5_reference_and_other_formulas_pass_on_every_seed(plain):
    sweep(q5, "q5", Q5Settings, reference_names(ref5, Q5_NAMES), set())
    sweep(q5, "q5", Q5Settings, other_q5_formulas(), set(), plain=plain)


def test_q5_constant_answers_get_their_own_message():
    names = {"conv_output_size": lambda *args: 1, "pool_output_size": lambda *args: 0,
             "same_padding": lambda *args: (0, 0)}
    outcomes = run_checks(checks_of(q5), FakeStudent(names), 1234, rubric_settings("q5", Q5Settings))
    assert all(not outcome.passed and "for all" in str(outcome.failure) and "whatever the arguments"
               in str(outcome.failure) for outcome in outcomes.values())


# -- q6 ---------------------------------------------------------------------------------

def q6_names(forward):
    return {**reference_names(ref6, Q6_NAMES), "batchnorm_forward": forward}


# Margins: at half the tolerances a mistake still passes the checks it should, at 5x it still fails its own.
@pytest.mark.parametrize("factor", [1.0, 0.5, 5.0], ids=["at the rubric's tolerances", "at 1/2", "at 5x"])
@pytest.mark.parametrize("function, mistake, wrong", BN_MISTAKES, ids=lambda value: getattr(value, "name", None))
def test_q6_each_mistake_loses_its_checks_and_is_named_on_every_seed(function, mistake, wrong, factor):
    sweep(q6, "q6", Q6Settings, q6_names(wrong), lost_checks("q6", mistake), allowed_diagnoses(mistake.name),
          factor=factor,
          seeds=SEEDS if factor == 1.0 else SEEDS[:8])


def keepdims_lists(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    """Right, with statistics kept as (1, C) / (1, 1, 1, C) and the outputs as a list of lists."""
    axes = tuple(range(x.ndim - 1))
    moving_mean = np.reshape(moving_mean, (1,) * (x.ndim - 1) + (-1,))
    moving_var = np.reshape(moving_var, moving_mean.shape)
    if training:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * var
    else:
        mean, var = moving_mean, moving_var
    x -= mean  # in place: the grader's inputs are the student's own copy
    return [(gamma * x / np.sqrt(var + epsilon) + beta).tolist(), moving_mean.tolist(), moving_var.tolist()]


def float32_results(*args, **kwargs):
    """Right in float64, returned as float32 arrays."""
    return tuple(np.asarray(output, dtype=np.float32) for output in ref6.batchnorm_forward(*args, **kwargs))


float32_arithmetic = trusted6.FUNCTIONS["batchnorm_forward"]["computed in float32"]


@pytest.mark.parametrize("forward", [ref6.batchnorm_forward, keepdims_lists, float32_results],
                         ids=["reference", "keepdims statistics, lists, in place", "float32 results"])
def test_q6_correct_variants_pass_on_every_seed(forward):
    sweep(q6, "q6", Q6Settings, q6_names(forward), set())


def test_q6_keepdims_is_noted_not_failed():
    outcomes = run_checks(checks_of(q6), FakeStudent(q6_names(keepdims_lists)), 1234, rubric_settings("q6", Q6Settings))
    notes = outcomes["q6.train.moving_update"].details["representations"]
    assert any("read as" in note for note in notes) and any("a list" in note for note in notes)
    assert any("(1, 1, 1," in note for note in outcomes["q6.conv4d"].details["representations"])


def test_q6_float32_arithmetic_loses_only_the_precision_check_at_half_the_tolerances():
    sweep(q6, "q6", Q6Settings, q6_names(float32_arithmetic), {"q6.large_values.float64"}, "computed in float32",
          factor=0.5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_q6_keras_itself_passes_on_every_seed(dtype):
    """keras.layers.BatchNormalization: float64 passes everything; float32 all but the precision check."""
    def forward(*args, **kwargs):
        return keras_batchnorm(*args, dtype=dtype, **kwargs)

    lost = {"q6.large_values.float64"} if dtype == "float32" else set()
    sweep(q6, "q6", Q6Settings, q6_names(forward), lost, seeds=SEEDS if dtype == "float64" else SEEDS[:10],
          factor=1.0 if dtype == "float64" else 0.5)


def constant_beta(x, gamma, beta, moving_mean, moving_var, *, training, momentum=0.99, epsilon=1e-3):
    """y = beta whatever x is (right for a batch of one, by accident); the moving update is right."""
    _, new_mean, new_var = ref6.batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training=training,
                                                  momentum=momentum, epsilon=epsilon)
    return np.broadcast_to(beta, np.shape(x)).copy(), new_mean, new_var


def zeros(x, gamma, beta, moving_mean, moving_var, **kwargs):
    return np.zeros_like(x), moving_mean, moving_var


@pytest.mark.parametrize("forward, lost", [(constant_beta, Y_TRAINING | {"q6.inference"}), (zeros, Q6_FORWARD)],
                         ids=["y = beta", "zeros"])
def test_q6_degenerate_outputs_never_pass_a_y_check(forward, lost):
    sweep(q6, "q6", Q6Settings, q6_names(forward), lost, {None, "moving statistics not updated"})
    outcomes = run_checks(checks_of(q6), FakeStudent(q6_names(forward)), 1234, rubric_settings("q6", Q6Settings))
    for check in Y_TRAINING | {"q6.inference"}:
        message = str(outcomes[check].failure)
        assert "does not depend on x" in message or "(every value is 0)" in message, check


# -- the samples with goldens, graded in-process on every seed ---------------------------

GRADERS = {"q4": (q4, Q4Settings), "q5": (q5, Q5Settings), "q6": (q6, Q6Settings)}
SAMPLES = ["reference", "typical_mistakes", "empty", "placeholder_answers", "q4_q5_numpy_and_lists",
           "q5_same_padding_without_max", "bn_keepdims_statistics", "bn_epsilon_in_moving_variance",
           "bn_eps_outside_sqrt", "bn_unbiased_variance", "bn_batch_stats_at_inference", "bn_wrong_constants"]


def sample_namespace(sample):
    """The sample's names, loaded in this process (trusted test data, not a student's code)."""
    if sample == "reference":
        return {**vars(ref4), **vars(ref5), **vars(ref6)}
    spec = importlib.util.spec_from_file_location(f"sample_{sample}", SAMPLES_DIR / sample / "hw3.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: value for name, value in vars(module).items() if not name.startswith("__")}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a sample's NumPy warnings (a variance of one sample)
@pytest.mark.parametrize("sample", SAMPLES)
def test_samples_keep_their_golden_verdicts_and_diagnoses_on_every_seed(sample):
    """The goldens pin a grading at the default seed; here the same verdicts hold on every seed.
    (The layer table's checks draw nothing: the goldens cover them.)"""
    goldens, _ = load_golden(sample)
    student = FakeStudent(sample_namespace(sample))
    for question in sorted(set(goldens) & set(GRADERS)):
        module, settings_type = GRADERS[question]
        checks, settings = checks_of(module), rubric_settings(question, settings_type)
        golden = {check.id: goldens[question]["checks"][check.id] for check in checks}
        named = None
        for seed in SEEDS:
            outcomes = run_checks(checks, student, seed, settings)
            assert {check: "passed" if o.passed else "failed" for check, o in outcomes.items()} == golden, seed
            diagnosis = {check: o.diagnosis for check, o in outcomes.items()}
            named = diagnosis if named is None else named
            assert diagnosis == named, f"seed {seed}"
