"""q5's grader checks at the default seed, on the reference and on each catalogued mistake: each
mistake loses exactly its checks and is named (tests/reference/test_sweep_q4_q5_q6.py sweeps many seeds)."""

import numpy as np
import pytest

from graders import test_q5_shapes as grader
from graders.core.errors import SubmissionError
from graders.harness.checks import CheckContext
from reference.q5_shapes import (
    LAYER_TABLE,
    conv_output_size,
    pool_output_size,
    same_padding,
)
from tests.reference.in_process import (
    FakeStudent,
    checks_of,
    diagnoses,
    failed,
    rubric_settings,
    run_checks,
)

# -- the grader's checks at the default seed (tests/reference/test_sweep_q4_q5_q6.py sweeps many) --

EXPECTED_FAILURES = {  # function -> known mistake -> the checks it loses
    "conv_output_size": {
        "no +1": {"q5.conv.valid", "q5.conv.strided", "q5.conv.dilated"},
        "rounded up": {"q5.conv.strided", "q5.conv.dilated"},
        "stride ignored": {"q5.conv.strided", "q5.conv.dilated"},
        "dilation ignored": {"q5.conv.dilated"},
        "dilated kernel as d * k": {"q5.conv.dilated"},
        "'same' rounded down": {"q5.conv.same"},
        "'same' ignores the stride": {"q5.conv.same"},
        "'same' computed like 'valid'": {"q5.conv.same"},
    },
    "pool_output_size": {
        "windows assumed not to overlap": {"q5.pool.overlapping"},
        "default stride 1": {"q5.pool.default_stride"},
        "no +1": {"q5.pool.default_stride", "q5.pool.overlapping"},
        "rounded up": {"q5.pool.default_stride", "q5.pool.overlapping"},
        "'same' rounded down": {"q5.pool.same"},
        "'same' computed like 'valid'": {"q5.pool.same"},
    },
    "same_padding": {
        "the stride-1 rule": {"q5.same_padding.strided"},
        "negative padding": {"q5.same_padding.strided"},
        "odd pixel before": {"q5.same_padding.stride1", "q5.same_padding.strided"},
        "dilation ignored": {"q5.same_padding.stride1", "q5.same_padding.strided"},
    },
}
REFERENCE = {"conv_output_size": conv_output_size, "pool_output_size": pool_output_size, "same_padding": same_padding}
FAMILIES = {"conv_output_size": grader.CONV_FAMILIES, "pool_output_size": grader.POOL_FAMILIES,
            "same_padding": grader.PADDING_FAMILIES}


def test_mistake_table_is_complete():
    assert {f: set(ms) for f, ms in EXPECTED_FAILURES.items()} == {
        f: {m.name for m in ms} for f, ms in grader.KNOWN_MISTAKES.items()}


@pytest.mark.parametrize("function, mistake", [(f, m) for f, ms in grader.KNOWN_MISTAKES.items() for m in ms],
                         ids=lambda value: getattr(value, "name", value))
def test_each_mistake_loses_its_checks_and_is_named_at_the_default_seed(function, mistake):
    outcomes = run_checks(checks_of(grader), FakeStudent({**REFERENCE, function: mistake.function}), 1234,
                          rubric_settings("q5", grader.Settings))
    assert failed(outcomes) == EXPECTED_FAILURES[function][mistake.name]
    assert diagnoses(outcomes) == {mistake.name}


@pytest.mark.parametrize("function, mistake", [(f, m) for f, ms in grader.KNOWN_MISTAKES.items() for m in ms],
                         ids=lambda value: getattr(value, "name", value))
def test_each_mistake_is_wrong_on_a_fixed_case_of_each_family_it_loses(function, mistake):
    """So that no seed can miss it: the random draws only add to the fixed cases."""
    for family, (fixed, _) in FAMILIES[function].items():
        wrong = any(mistake.function(*case.values()) != REFERENCE[function](*case.values()) for case in fixed)
        check_id = {"conv_output_size": "q5.conv.", "pool_output_size": "q5.pool.",
                    "same_padding": "q5.same_padding."}[function] + family
        assert wrong == (check_id in EXPECTED_FAILURES[function][mistake.name]), check_id


def test_fixed_cases_are_cases_a_real_layer_accepts():
    for families in FAMILIES.values():
        for fixed, _ in families.values():
            for case in fixed:
                size, kernel = case["size"], case.get("kernel", case.get("pool"))
                if case.get("padding", "valid") == "valid":
                    assert size >= case.get("dilation", 1) * (kernel - 1) + 1, case


def table_check(table, row):
    context = CheckContext(id=f"q5.table.layer{row}", points=1.0, hidden=False)
    try:
        grader.test_layer_table_row(student_table=table, row=row, check=context)
    except SubmissionError as failure:
        return str(failure), context.details
    return None, context.details


def test_a_table_written_as_keras_prints_it_with_numpy_numbers_is_right():
    table = [([None, *shape] if shape else None, np.int64(params)) for shape, params in LAYER_TABLE]
    table[0] = (np.array([256, 256, 64]), 1792)
    for row in range(1, len(LAYER_TABLE) + 1):
        message, _ = table_check(table, row)
        assert message is None, message
    assert "a NumPy integer" in table_check(table, 1)[1]["representations"]
    assert any("batch axis" in note for note in table_check(table, 2)[1]["representations"])


@pytest.mark.parametrize("placeholder", [[(None, 0)] * 9, [(None, params) for _, params in LAYER_TABLE],
                                         [(shape, 0) for shape, _ in LAYER_TABLE]],
                         ids=["every row (None, 0)", "every shape None", "every count 0"])
def test_a_placeholder_table_passes_no_row_by_accident(placeholder):
    for row in range(1, len(LAYER_TABLE) + 1):
        message, _ = table_check(placeholder, row)
        assert message is not None, row
    assert "cannot be graded on its own" in table_check(placeholder, 9)[0]


def test_a_wrong_row_loses_only_itself():
    table = list(LAYER_TABLE)
    table[1] = ((125, 125, 32), 51232)
    assert [row for row in range(1, 10) if table_check(table, row)[0]] == [2]
