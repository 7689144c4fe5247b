"""q5: convolution / dilated-convolution / pooling output sizes, 'same' padding, and the layer table.

Every family of cases is one check, so a formula that is right only for stride 1 (say) loses
exactly the strided checks. Each family is its fixed edge cases (on which every known mistake of
graders/questions/q5/mistakes.py is wrong, whatever the seed) and random draws from the seed; a
failure names the known mistake that gives the same answers.
"""

from dataclasses import dataclass

import numpy as np
import pytest

from graders.core.compare import as_int
from graders.core.errors import SubmissionError, Unanswered, WrongType, require
from graders.core.expect import diagnosis_from, expect_cases
from graders.questions.q5.mistakes import KNOWN_MISTAKES
from reference import q5_shapes as ref


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q5]."""

    cases: int  # random cases per check, after the fixed ones


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section("q5", Settings)


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


def _expect(student, check, name, cases):
    notes: list[str] = []
    expect_cases(student, name, getattr(ref, name), cases, notes=notes, diagnose=diagnosis_from(KNOWN_MISTAKES[name]))
    if notes:
        check.details["representations"] = notes


# -- conv_output_size -------------------------------------------------------------------

def conv(size, kernel, stride=1, padding="valid", dilation=1):
    """A case of conv_output_size, its arguments in the contract's order."""
    return {"size": size, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}


def _conv_case(stride_range, dilation_range, padding):
    def draw(rng):
        size, kernel = _int(rng, 5, 64), _int(rng, 1, 7)
        stride, dilation = _int(rng, *stride_range), _int(rng, *dilation_range)
        if padding == "valid" and size < dilation * (kernel - 1) + 1:
            return None  # a real layer cannot produce an empty output: no such case
        return conv(size, kernel, stride, padding, dilation)

    return draw


CONV_FAMILIES = {  # (fixed edge cases, random draw)
    "valid": ([conv(28, 5), conv(5, 5), conv(7, 1), conv(6, 2)], _conv_case((1, 1), (1, 1), "valid")),
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
def test_conv_output_size(student, rng, settings, check, family):
    fixed, draw = CONV_FAMILIES[family]
    _expect(student, check, "conv_output_size", _cases(rng, settings, fixed, draw))


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
def test_pool_output_size(student, rng, settings, check, family):
    fixed, draw = POOL_FAMILIES[family]
    _expect(student, check, "pool_output_size", _cases(rng, settings, fixed, draw))


# -- same_padding -----------------------------------------------------------------------

def padding(size, kernel, stride=1, dilation=1):
    """A case of same_padding."""
    return {"size": size, "kernel": kernel, "stride": stride, "dilation": dilation}


def _padding_case(strided):
    def draw(rng):
        stride = _int(rng, 2, 4) if strided else 1
        size = _int(rng, 4, 64)
        if strided and rng.random() < 0.5:
            size -= size % stride  # sizes divisible by the stride are where stride-1 formulas break
        return padding(max(size, stride), _int(rng, 1, 7), stride, _int(rng, 1, 3))

    return draw


PADDING_FAMILIES = {
    # an odd total (even kernel): TF puts the extra pixel after; dilation widens the kernel.
    "stride1": ([padding(7, 2), padding(9, 4), padding(10, 3, 1, 2), padding(11, 2, 1, 3), padding(5, 1)],
                _padding_case(strided=False)),
    # the total depends on the stride; it is 0, never negative, when the windows skip pixels.
    "strided": ([padding(8, 3, 2), padding(10, 1, 2), padding(12, 2, 4), padding(16, 4, 4), padding(20, 3, 3, 2),
                 padding(9, 3, 2)], _padding_case(strided=True)),
}


@pytest.mark.check("q5.same_padding.{family}")
@pytest.mark.parametrize("family", PADDING_FAMILIES)
def test_same_padding(student, rng, settings, check, family):
    fixed, draw = PADDING_FAMILIES[family]
    _expect(student, check, "same_padding", _cases(rng, settings, fixed, draw))


# -- the layer table -------------------------------------------------------------------

@pytest.fixture(scope="module")
def student_table(student):
    table = student.get("LAYER_TABLE")
    if not isinstance(table, (list, tuple)):
        raise WrongType(f"LAYER_TABLE should be a list of (output_shape or None, params) rows, got {table!r:.80}")
    expected_rows = len(ref.LAYER_TABLE)
    if len(table) == expected_rows + 1 and _row_shape(table[0]) == ref.INPUT_SHAPE:
        raise WrongType(f"LAYER_TABLE has {len(table)} rows and the first is the input {ref.INPUT_SHAPE}: "
                        f"leave the input out, one row per layer ({expected_rows} rows)")
    return list(table)


def _row_shape(row):
    if isinstance(row, (list, tuple)) and len(row) == 2 and isinstance(row[0], (list, tuple, np.ndarray)):
        return tuple(row[0])
    return None


@pytest.mark.check("q5.table.layer{row}")
@pytest.mark.parametrize("row", range(1, len(ref.LAYER_TABLE) + 1))
def test_layer_table_row(student_table, row, check):
    layer = ref.NETWORK[row - 1]
    expected_shape, expected_params = ref.LAYER_TABLE[row - 1]
    where = f"LAYER_TABLE row {row} ({layer.label})"
    check.details.update(layer=layer.label, expected=[expected_shape, expected_params], actual=None)
    if not student_table:
        raise Unanswered(f"{where}: LAYER_TABLE is empty: no answer yet")
    if row > len(student_table):
        raise WrongType(f"{where}: missing; the table has {len(student_table)} rows, expected {len(ref.LAYER_TABLE)}")
    notes: list[str] = []
    shape, params = _parse_row(student_table[row - 1], where, notes)
    check.details["actual"] = [shape, params]
    if notes:
        check.details["representations"] = notes
    problems = []
    if shape != expected_shape:
        problems.append(f"expected output {_shape_text(expected_shape)}, got {_shape_text(shape)}")
    if params != expected_params:
        problems.append(f"expected {expected_params} parameters, got {params}")
    placeholder = _placeholder_table(student_table)
    require(not problems, lambda: f"{where}: " + "; ".join(problems) + (f" ({placeholder})" if placeholder else ""))
    require(placeholder is None, lambda: f"{where}: {placeholder}; this row cannot be graded on its own "
                                         "(fill in every row of the table)")


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
    these, so a row that matches (say (None, 0) for the last pool) matched by accident.
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


def _shape_text(shape):
    return "None (invalid layer)" if shape is None else str(tuple(shape))
