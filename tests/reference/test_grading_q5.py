"""q5's grader checks at the default seed, on the reference and on each catalogued mistake: each
mistake loses exactly its checks and is named (tests/reference/test_sweep_q4_q5_q6.py sweeps many seeds)."""

import numpy as np
import pytest

from graders import test_q5_shapes as grader
from graders.questions.q5.judges import Settings
from reference.q5_shapes import (
    LAYER_TABLE,
    conv_output_size,
    pool_output_size,
    same_padding,
)
from tests.reference.in_process import (
    TRUSTED,
    FakeStudent,
    catalogued_mistakes,
    checks_of,
    diagnoses,
    failed,
    lost_checks,
    rubric_settings,
    run_check,
    run_checks,
)

# -- the grader's checks at the default seed (tests/reference/test_sweep_q4_q5_q6.py sweeps many) --

MISTAKES = catalogued_mistakes("q5")
REFERENCE = {"conv_output_size": conv_output_size, "pool_output_size": pool_output_size, "same_padding": same_padding}
FAMILIES = {"conv_output_size": grader.CONV_FAMILIES, "pool_output_size": grader.POOL_FAMILIES,
            "same_padding": grader.PADDING_FAMILIES}


def test_every_function_mistake_names_the_checks_it_loses():
    assert {function for function, _, _ in MISTAKES} == set(REFERENCE)
    assert all(mistake.loses for _, mistake, _ in MISTAKES)


@pytest.mark.parametrize("function, mistake, wrong", MISTAKES, ids=lambda value: getattr(value, "name", None))
def test_each_mistake_loses_its_checks_and_is_named_at_the_default_seed(function, mistake, wrong):
    outcomes = run_checks(checks_of(grader), FakeStudent({**REFERENCE, function: wrong}), 1234,
                          rubric_settings("q5", Settings))
    assert failed(outcomes) == lost_checks("q5", mistake)
    assert diagnoses(outcomes) == {mistake.name}


@pytest.mark.parametrize("function, mistake, wrong", MISTAKES, ids=lambda value: getattr(value, "name", None))
def test_each_mistake_is_wrong_on_a_fixed_case_of_each_family_it_loses(function, mistake, wrong):
    """So that no seed can miss it: the random draws only add to the fixed cases."""
    for family, (fixed, _) in FAMILIES[function].items():
        wrong_somewhere = any(wrong(*case.values()) != REFERENCE[function](*case.values()) for case in fixed)
        check_id = {"conv_output_size": "q5.conv.", "pool_output_size": "q5.pool.",
                    "same_padding": "q5.same_padding."}[function] + family
        assert wrong_somewhere == (check_id in lost_checks("q5", mistake)), check_id


def test_fixed_cases_are_cases_a_real_layer_accepts():
    for families in FAMILIES.values():
        for fixed, _ in families.values():
            for case in fixed:
                size, kernel = case["size"], case.get("kernel", case.get("pool"))
                if case.get("padding", "valid") == "valid":
                    assert size >= case.get("dilation", 1) * (kernel - 1) + 1, case


def table_check(table, row):
    check = next(c for c in checks_of(grader, needing=("student_table",)) if c.id == f"q5.table.layer{row}")
    outcome = run_check(check, None, 1234, None, student_table=table, network=TRUSTED.value("q5", "network"))
    return (None if outcome.passed else str(outcome.failure)), outcome.details


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


def test_a_wrong_row_says_which_cell_is_wrong_and_why_but_never_what_it_should_be():
    table = list(LAYER_TABLE)
    table[1] = ((125, 125, 32), 51232)  # the shape of a 'valid' size rounded up; the count right
    message, details = table_check(table, 2)
    assert "the output shape (125, 125, 32) is wrong" in message and "parameter count" not in message
    assert "conv: rounded up" in message
    assert str(LAYER_TABLE[1][0]) not in message and details["wrong_cells"] == ["shape"]
    table[1], table[2] = ((123, 123, 32), 51232), ((61, 61, 32), 0)  # row 3 follows from row 2's wrong shape
    message, _ = table_check(table, 3)
    assert "an earlier row's shape is wrong too" in message and str(LAYER_TABLE[2][0]) not in message
    table[1] = (LAYER_TABLE[1][0], 51200)  # no bias
    message, _ = table_check(table, 2)
    assert "the parameter count 51200 is wrong" in message and "no bias" in message and "51232" not in message
