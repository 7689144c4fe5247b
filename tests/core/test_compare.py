"""The one comparison rule |a-b| <= atol + rtol*|b|, its messages, and the type checks."""

import numpy as np
import pytest

from graders.core.compare import (
    as_array,
    as_int,
    as_number,
    degenerate_answer,
    require_close,
    squeeze_to,
)
from graders.core.errors import CheckFailed, Unanswered, WrongType


def test_equal_integers_pass_and_a_mismatch_names_quantity_expected_and_actual():
    require_close(124, 124, what="row 2 height")
    with pytest.raises(CheckFailed) as failure:
        require_close(126, 124, what="row 2 height")
    assert str(failure.value) == "row 2 height: expected 124, got 126"


def test_rule_boundary_is_inclusive():
    require_close(1.0 + 0.1 + 0.01 * 1.0, 1.0, what="y", atol=0.1, rtol=0.01 + 1e-12)
    with pytest.raises(CheckFailed, match=r"allowed \|diff\| <= 0.1 \+ 0.01\*\|expected\|"):
        require_close(1.0 + 0.1 + 0.0101, 1.0, what="y", atol=0.1, rtol=0.01)


def test_array_message_names_the_worst_element_and_the_count():
    expected = np.zeros((3, 4))
    actual = expected.copy()
    actual[1, 2] = 5.0
    actual[2, 3] = 0.5
    with pytest.raises(CheckFailed) as failure:
        require_close(actual, expected, what="y (training)", atol=0.1)
    message = str(failure.value)
    assert "2 of 12 values differ" in message and "worst at index (1, 2): expected 0, got 5" in message


def test_nan_fails_and_shape_mismatch_is_named():
    with pytest.raises(CheckFailed, match="got nan"):
        require_close(float("nan"), 1.0, what="r2", atol=1.0)
    with pytest.raises(CheckFailed, match="worst at index"):
        require_close(np.array([1.0, np.inf]), np.array([1.0, 2.0]), what="y", atol=1e9)
    with pytest.raises(CheckFailed, match=r"expected shape \(2,\), got shape \(3,\)"):
        require_close(np.ones(3), np.ones(2), what="y")


@pytest.mark.parametrize("value, expected", [(3, 3), (3.0, 3), (-2, -2)])
def test_as_int_accepts_integers_and_integral_floats(value, expected):
    assert as_int(value, what="n") == expected


@pytest.mark.parametrize("value, note", [
    (np.int64(3), "a NumPy integer"), (np.float32(3.0), "an integral float"), (np.array(3), "a one-element array"),
    (np.array([3]), "a one-element array"), ([3], "a one-element list"), ((3.0,), "a one-element tuple"),
])
def test_as_int_accepts_numpy_scalars_and_one_element_containers_and_notes_them(value, note):
    notes = []
    assert as_int(value, what="n", notes=notes) == 3
    assert note in notes


@pytest.mark.parametrize("value", [3.5, "3", True, np.bool_(True), [3, 4], np.array([1, 2]), [3.5], float("nan")])
def test_as_int_refuses_everything_else(value):
    with pytest.raises(WrongType, match="n: expected"):
        as_int(value, what="n")


def test_as_number_accepts_numpy_scalars():
    notes = []
    assert as_number(np.float32(0.5), what="x", notes=notes) == 0.5 and notes == ["a NumPy number"]
    assert as_number(np.array([0.25]), what="x") == 0.25


def test_as_number_and_as_array():
    assert as_number(2, what="x") == 2.0
    with pytest.raises(WrongType):
        as_number("2", what="x")
    assert as_array([[1, 2]], what="a", shape=(1, 2)).dtype == np.float64
    with pytest.raises(WrongType, match="shape"):
        as_array([1, 2, 3], what="a", shape=(2,))
    with pytest.raises(WrongType, match="ragged"):
        as_array([[1], [1, 2]], what="a")
    with pytest.raises(WrongType, match="numeric"):
        as_array(["a"], what="a")


def test_none_is_an_unanswered_placeholder():
    for convert in (as_int, as_number, as_array):
        with pytest.raises(Unanswered, match="n: no answer yet"):
            convert(None, what="n")


def test_extra_singleton_dimensions_squeeze_to_the_contracts_shape_and_are_noted():
    notes = []
    for value in (np.ones((1, 5)), np.ones((1, 1, 1, 5)), np.ones((5, 1))):
        assert as_array(value, what="m", shape=(5,), notes=notes).shape == (5,)
    assert notes == ["shape (1, 5) read as (5,)", "shape (1, 1, 1, 5) read as (5,)", "shape (5, 1) read as (5,)"]
    assert as_array([[1.0, 2.0]], what="m", shape=(1, 2), notes=notes).shape == (1, 2)  # already right: no note
    with pytest.raises(WrongType, match=r"expected an array of shape \(5,\), got shape \(2, 5\)"):
        as_array(np.ones((2, 5)), what="m", shape=(5,))


def test_squeeze_to_never_transposes_or_adds_a_dimension():
    assert squeeze_to(np.ones((3, 2)), (2, 3)).shape == (3, 2)
    assert squeeze_to(np.ones(5), (1, 5)).shape == (5,)
    assert squeeze_to(np.ones((1, 3, 1, 2)), (3, 2)).shape == (3, 2)


def test_lists_and_float32_are_the_same_answer_and_noted():
    notes = []
    array = as_array([np.float32(0.5), 1.5], what="y", notes=notes)
    assert array.dtype == np.float64 and notes == ["a list"]
    as_array(np.ones(3, dtype=np.float32), what="y", notes=notes)
    assert "float32 values" in notes


def test_a_constant_or_all_zero_answer_is_named_as_such():
    assert degenerate_answer(np.zeros(4), np.arange(4)) == "every value is 0"
    assert degenerate_answer(np.full(4, 2.5), np.arange(4)) == "every value is 2.5"
    assert degenerate_answer(np.zeros(4), np.zeros(4)) is None  # zero is the answer here
    assert degenerate_answer(np.arange(4), np.ones(4) * 3) is None
    with pytest.raises(CheckFailed, match=r"\(every value is 0\)$"):
        require_close(np.zeros(3), np.array([1.0, 2.0, 3.0]), what="y")


@pytest.mark.parametrize("huge", [10**400, -(10**400), [10**400, 1]])
def test_a_number_too_large_for_a_float_is_a_wrong_answer_not_a_grader_error(huge):
    # BEST_VAL_ACCURACY = 10**400 once stopped a grading with an OverflowError (exit code 3)
    if isinstance(huge, list):
        with pytest.raises(CheckFailed, match="got inf"):
            require_close(as_array(huge, what="y"), [1.0, 1.0], what="y")
        return
    value = as_number(huge, what="BEST_VAL_ACCURACY")
    assert value == (np.inf if huge > 0 else -np.inf)
    with pytest.raises(CheckFailed, match=r"expected 0.97, got -?inf"):
        require_close(huge, 0.97, what="x")
    with pytest.raises(CheckFailed, match=r"expected 3, got -?inf"):
        require_close(as_int(huge, what="n"), 3, what="n")
