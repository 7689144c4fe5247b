"""q5: convolution / dilated-convolution / pooling output sizes, 'same' padding, and the layer table.

Every family of cases is one check, so a formula that is right only for stride 1 (say) loses
exactly the strided checks. Each family is its fixed edge cases (on which every known mistake of
graders/questions/q5/mistakes.py is wrong, whatever the seed; defaults left out where they change
the answer) and random draws from the seed. Each check observes the student's, the reference's and
the known mistakes' answers (graders/core/expect.py); its judge names the mistake they match. The
layer table is the same whatever the seed: its rows are judged without showing the expected cells
(graders/questions/q5/judges.py), and the student kit checks only its form.
"""

import numpy as np
import pytest

from graders.core.compare import as_int
from graders.core.errors import SubmissionError, Unanswered, WrongType
from graders.core.expect import observe_int_cases
from graders.questions.q5 import TABLE_ROWS
from graders.questions.q5.judges import Settings

Q = "q5"


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section(Q, Settings)


def _cases(rng, settings, fixed, draw):
    """The fixed cases, then random ones until there are `cases` of them; `draw` returns None to reject one."""
    wanted, cases = settings.cases, []
    while len(cases) < wanted:
        case = draw(rng)
        if case is not None:
            cases.append(case)
    return list(fixed) + cases


def _int(rng, low, high):
    return int(rng.integers(low, high + 1))


def _observe(student, trusted, check, name, cases):
    check.observe("int_cases", **observe_int_cases(student, trusted, Q, name, cases))


def _leave_out_defaults(rng, case: dict, defaults: dict) -> dict:
    """`case` without its trailing arguments that equal their defaults, half the time: a default then decides."""
    if rng.random() < 0.5:
        return case
    keys = list(case)
    while keys and keys[-1] in defaults and case[keys[-1]] == defaults[keys[-1]]:
        keys.pop()
    return {key: case[key] for key in keys}


# -- conv_output_size -------------------------------------------------------------------

CONV_DEFAULTS = {"stride": 1, "padding": "valid", "dilation": 1}


def conv(size, kernel, *rest):
    """A case of conv_output_size, its arguments in the contract's order; those left out take their defaults."""
    return dict(zip(("size", "kernel", "stride", "padding", "dilation"), (size, kernel, *rest)))


def _conv_case(stride_range, dilation_range, padding):
    def draw(rng):
        size, kernel = _int(rng, 5, 64), _int(rng, 1, 7)
        stride, dilation = _int(rng, *stride_range), _int(rng, *dilation_range)
        if padding == "valid" and size < dilation * (kernel - 1) + 1:
            return None  # a real layer cannot produce an empty output: no such case
        return _leave_out_defaults(rng, conv(size, kernel, stride, padding, dilation), CONV_DEFAULTS)

    return draw


CONV_FAMILIES = {  # (fixed edge cases, random draw)
    # conv(28, 5) leaves stride, padding and dilation to their defaults: each one changes its answer.
    "valid": ([conv(28, 5), conv(5, 5, 1, "valid", 1), conv(7, 1, 1, "valid"), conv(6, 2, 1)],
              _conv_case((1, 1), (1, 1), "valid")),
    # (size - k) not a multiple of the stride: rounding shows; size == k: one window.
    "strided": ([conv(10, 3, 2), conv(28, 5, 3), conv(5, 5, 2), conv(9, 2, 4), conv(11, 3, 2)],
                _conv_case((2, 4), (1, 1), "valid")),
    # size not a multiple of the stride: ceil, not floor; stride 1 and dilation change nothing.
    "same": ([conv(7, 3, 2, "same"), conv(5, 5, 4, "same"), conv(9, 2, 1, "same", 3), conv(16, 3, 4, "same"),
              conv(10, 7, 3, "same", 2)], _conv_case((1, 4), (1, 3), "same")),
    # d * (k - 1) + 1, not k or d * k; with a stride; an effective kernel as large as the input.
    "dilated": ([conv(10, 3, 1, "valid", 2), conv(20, 3, 2, "valid", 3), conv(9, 5, 1, "valid", 2),
                 conv(15, 2, 3, "valid", 4)], _conv_case((1, 3), (2, 4), "valid")),
}


@pytest.mark.check("q5.conv.{family}")
@pytest.mark.parametrize("family", CONV_FAMILIES)
def test_conv_output_size(student, trusted, rng, settings, check, family):
    fixed, draw = CONV_FAMILIES[family]
    _observe(student, trusted, check, "conv_output_size", _cases(rng, settings, fixed, draw))


# -- pool_output_size -------------------------------------------------------------------

def pool(size, pool_size, stride=None, padding=None):
    """A case of pool_output_size; stride and padding are left out (their defaults) when None."""
    case = {"size": size, "pool": pool_size}
    if stride is not None or padding is not None:
        case.update(stride=stride, padding=padding or "valid")
    return case


def _pool_default_stride(rng):
    return pool(_int(rng, 4, 64), _int(rng, 2, 4))


def _pool_overlapping(rng):
    pool_size, stride, size = _int(rng, 2, 5), _int(rng, 1, 4), _int(rng, 5, 64)
    return pool(size, pool_size, stride, "valid") if pool_size != stride else None


def _pool_same(rng):
    return pool(_int(rng, 4, 64), _int(rng, 2, 5), _int(rng, 1, 4), "same")


POOL_FAMILIES = {
    "default_stride": ([pool(7, 2), pool(9, 3), pool(5, 4), pool(8, 2)], _pool_default_stride),
    # windows overlapping (stride < pool) and skipping pixels (stride > pool): size // stride is wrong.
    "overlapping": ([pool(8, 3, 2, "valid"), pool(5, 2, 1, "valid"), pool(10, 3, 1, "valid"), pool(11, 2, 3, "valid")],
                    _pool_overlapping),
    "same": ([pool(7, 2, 2, "same"), pool(5, 3, 1, "same"), pool(10, 3, 3, "same"), pool(9, 4, 2, "same")],
             _pool_same),
}


@pytest.mark.check("q5.pool.{family}")
@pytest.mark.parametrize("family", POOL_FAMILIES)
def test_pool_output_size(student, trusted, rng, settings, check, family):
    fixed, draw = POOL_FAMILIES[family]
    _observe(student, trusted, check, "pool_output_size", _cases(rng, settings, fixed, draw))


# -- same_padding -----------------------------------------------------------------------

PADDING_DEFAULTS = {"stride": 1, "dilation": 1}


def padding(size, kernel, *rest):
    """A case of same_padding; the arguments left out take their defaults."""
    return dict(zip(("size", "kernel", "stride", "dilation"), (size, kernel, *rest)))


def _padding_case(strided):
    def draw(rng):
        stride = _int(rng, 2, 4) if strided else 1
        size = _int(rng, 4, 64)
        if strided and rng.random() < 0.5:
            size -= size % stride  # sizes divisible by the stride are where stride-1 formulas break
        case = padding(max(size, stride), _int(rng, 1, 7), stride, _int(rng, 1, 3))
        return _leave_out_defaults(rng, case, PADDING_DEFAULTS)

    return draw


PADDING_FAMILIES = {
    # an odd total (even kernel): TF puts the extra pixel after; dilation widens the kernel. padding(10, 3)
    # leaves stride and dilation to their defaults, on an even size where each one changes the answer.
    "stride1": ([padding(7, 2, 1), padding(9, 4, 1, 1), padding(10, 3, 1, 2), padding(11, 2, 1, 3), padding(5, 1, 1, 1),
                 padding(10, 3)],
                _padding_case(strided=False)),
    # the total depends on the stride; it is 0, never negative, when the windows skip pixels.
    "strided": ([padding(8, 3, 2), padding(10, 1, 2), padding(12, 2, 4), padding(16, 4, 4), padding(20, 3, 3, 2),
                 padding(9, 3, 2)], _padding_case(strided=True)),
}


@pytest.mark.check("q5.same_padding.{family}")
@pytest.mark.parametrize("family", PADDING_FAMILIES)
def test_same_padding(student, trusted, rng, settings, check, family):
    fixed, draw = PADDING_FAMILIES[family]
    _observe(student, trusted, check, "same_padding", _cases(rng, settings, fixed, draw))


# -- the layer table -------------------------------------------------------------------

@pytest.fixture(scope="module")
def network(trusted) -> dict:
    """The network students tabulate: {"input_shape", "layers": [label, ...]} (the question's text)."""
    return trusted.value(Q, "network")


@pytest.fixture(scope="module")
def student_table(student, network):
    table = student.get("LAYER_TABLE")
    if not isinstance(table, (list, tuple)):
        raise WrongType(f"LAYER_TABLE should be a list of (output_shape or None, params) rows, got {table!r:.80}")
    input_shape = tuple(network["input_shape"])
    if len(table) == TABLE_ROWS + 1 and _row_shape(table[0]) == input_shape:
        raise WrongType(f"LAYER_TABLE has {len(table)} rows and the first is the input {input_shape}: "
                        f"leave the input out, one row per layer ({TABLE_ROWS} rows)")
    return list(table)


def _row_shape(row):
    if isinstance(row, (list, tuple)) and len(row) == 2 and isinstance(row[0], (list, tuple, np.ndarray)):
        return tuple(row[0])
    return None


@pytest.mark.check("q5.table.layer{row}")
@pytest.mark.parametrize("row", range(1, TABLE_ROWS + 1))
def test_layer_table_row(student_table, network, trusted, row, check):
    label = network["layers"][row - 1]
    where = f"LAYER_TABLE row {row} ({label})"
    check.details.update(layer=label)
    if not student_table:
        raise Unanswered(f"{where}: LAYER_TABLE is empty: no answer yet")
    if row > len(student_table):
        raise WrongType(f"{where}: missing; the table has {len(student_table)} rows, expected {TABLE_ROWS}")
    notes: list[str] = []
    actual = list(_parse_row(student_table[row - 1], where, notes))
    expected = trusted.value(Q, "layer_table")  # the kit has none: CheckedByTA, once the form is checked
    tables = trusted.value(Q, "mistakes.layer_table")
    check.observe("table_row", row=row, layer=label, expected=list(expected[row - 1]), actual=actual,
                  mistakes={name: list(table[row - 1]) for name, table in tables.items() if len(table) >= row},
                  placeholder=_placeholder_table(student_table), representations=notes,
                  earlier_shape_wrong=_earlier_shape_wrong(student_table, expected, row))


def _earlier_shape_wrong(table, expected, row) -> bool:
    """Whether a row above `row` has a well-formed but wrong output shape (every shape follows from the last)."""
    for number in range(1, row):
        try:
            shape, _ = _parse_row(table[number - 1], "LAYER_TABLE")
        except SubmissionError:
            continue
        if shape != expected[number - 1][0]:
            return True
    return False


def _parse_row(row, where, notes=None):
    if not isinstance(row, (list, tuple)) or len(row) != 2:
        raise WrongType(f"{where}: expected a pair (output_shape or None, params), got {row!r:.80}")
    shape, params = row
    if shape is not None:
        if not isinstance(shape, (list, tuple, np.ndarray)) or np.ndim(shape) != 1:
            raise WrongType(f"{where}: the output shape should be a tuple (H, W, C) or None, got {shape!r:.60}")
        if len(shape) == 4 and shape[0] is None:
            shape = shape[1:]  # (None, H, W, C) as Keras prints it: the batch axis is not part of the answer
            if notes is not None:
                notes.append("the output shape with Keras' batch axis (None, H, W, C)")
        shape = tuple(as_int(value, what=f"{where} output shape", notes=notes) for value in shape)
    return shape, as_int(params, what=f"{where} parameter count", notes=notes)


def _placeholder_table(table) -> str | None:
    """Why `table` is a placeholder whose right cells would be right by accident, or None.

    Every row alike, every shape None, or every parameter count 0: the right answer has none of
    these, so a row of such a table that matches the answer matched by accident. (Which row that can be is
    the answer's business: this module ships in the student kit, and says nothing of it.)
    """
    rows = []
    for row in table:
        try:
            rows.append(_parse_row(row, "LAYER_TABLE"))
        except SubmissionError:
            return None  # a malformed row fails its own check; the others are graded as they are
    if len(rows) < 2:
        return None
    if len(set(rows)) == 1:
        return f"every row of LAYER_TABLE is {rows[0]}"
    if all(shape is None for shape, _ in rows):
        return "every output shape in LAYER_TABLE is None"
    if all(params == 0 for _, params in rows):
        return "every parameter count in LAYER_TABLE is 0"
    return None
