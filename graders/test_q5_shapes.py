"""q5: convolution / dilated-convolution / pooling output sizes, 'same' padding, and the layer table.

Every family of cases is one check, so a formula that is right only for stride 1 (say) loses
exactly the strided checks. Each family is its fixed edge cases (on which every known mistake of
KNOWN_MISTAKES is wrong, whatever the seed) and random draws from the seed; a failure names the
known mistake that gives the same answers.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest

from graders.core.compare import as_int
from graders.core.errors import SubmissionError, Unanswered, WrongType, require
from graders.core.expect import KnownMistake, diagnosis_from, expect_cases
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


# -- known mistakes ---------------------------------------------------------------------

def _formula(*, plus_one=True, rounding=math.floor, dilation="right", stride_in_valid=True, same="ceil"):
    """conv_output_size done one way; the defaults are right."""
    def output_size(size, kernel, stride=1, padding="valid", dilation_rate=1):
        if str(padding).lower() == "same":
            return {"ceil": math.ceil(size / stride), "floor": size // stride, "size": size,
                    "valid": output_size(size, kernel, stride, "valid", dilation_rate)}[same]
        k = {"right": dilation_rate * (kernel - 1) + 1, "ignored": kernel, "times": dilation_rate * kernel}[dilation]
        step = stride if stride_in_valid else 1
        return int(rounding((size - k) / step)) + (1 if plus_one else 0)

    return output_size


def _pool_formula(**kwargs):
    conv_formula = _formula(**{key: value for key, value in kwargs.items() if key != "default_stride"})

    def output_size(size, pool_size, stride=None, padding="valid"):
        if stride is None:
            stride = pool_size if kwargs.get("default_stride", "pool") == "pool" else 1
        return conv_formula(size, pool_size, stride, padding)

    return output_size


def _pool_no_overlap(size, pool_size, stride=None, padding="valid"):
    stride = stride or pool_size
    return math.ceil(size / stride) if padding == "same" else size // stride


def _padding_formula(*, clamp=True, stride="right", odd="after", dilation=True):
    def same_padding(size, kernel, stride_=1, dilation_rate=1):
        k = dilation_rate * (kernel - 1) + 1 if dilation else kernel
        if stride == "ignored":
            total = k - 1
        else:
            total = (math.ceil(size / stride_) - 1) * stride_ + k - size
        total = max(total, 0) if clamp else total
        small, large = total // 2, total - total // 2
        return (small, large) if odd == "after" else (large, small)

    return same_padding


VALID_ROUNDING = "(size - k) / stride is rounded down: floor((size - k) / stride) + 1"
KNOWN_MISTAKES = {
    "conv_output_size": (
        KnownMistake("no +1", "'valid' gives floor((size - k) / stride) + 1 windows: the first window counts too",
                     _formula(plus_one=False)),
        KnownMistake("rounded up", VALID_ROUNDING, _formula(rounding=math.ceil)),
        KnownMistake("stride ignored", "with 'valid', a stride s keeps every s-th window: floor((size - k) / s) + 1",
                     _formula(stride_in_valid=False)),
        KnownMistake("dilation ignored", "a dilated kernel spans d * (k - 1) + 1 pixels", _formula(dilation="ignored")),
        KnownMistake("dilated kernel as d * k", "a dilated kernel spans d * (k - 1) + 1 pixels, not d * k",
                     _formula(dilation="times")),
        KnownMistake("'same' rounded down", "'same' gives ceil(size / stride): a last, partial window counts",
                     _formula(same="floor")),
        KnownMistake("'same' ignores the stride", "'same' gives ceil(size / stride), the input size only for "
                     "stride 1", _formula(same="size")),
        KnownMistake("'same' computed like 'valid'", "'same' pads the input: the output is ceil(size / stride) "
                     "whatever the kernel", _formula(same="valid")),
    ),
    "pool_output_size": (
        KnownMistake("windows assumed not to overlap", "size // stride is right only when pool == stride; 'valid' "
                     "pooling gives floor((size - pool) / stride) + 1", _pool_no_overlap),
        KnownMistake("default stride 1", "Keras' pooling stride defaults to the pool size", _pool_formula(
                     default_stride="one")),
        KnownMistake("no +1", "'valid' gives floor((size - pool) / stride) + 1 windows", _pool_formula(plus_one=False)),
        KnownMistake("rounded up", VALID_ROUNDING.replace("k", "pool"), _pool_formula(rounding=math.ceil)),
        KnownMistake("'same' rounded down", "'same' gives ceil(size / stride)", _pool_formula(same="floor")),
        KnownMistake("'same' computed like 'valid'", "'same' pads the input: the output is ceil(size / stride)",
                     _pool_formula(same="valid")),
    ),
    "same_padding": (
        KnownMistake("the stride-1 rule", "the total padding is d * (k - 1) only for stride 1; with a stride it is "
                     "what the last window needs: (ceil(size / s) - 1) * s + k_eff - size", _padding_formula(
                         stride="ignored")),
        KnownMistake("negative padding", "when the windows skip pixels the formula goes below 0; the padding is then "
                     "0 (max(0, ...)), never negative", _padding_formula(clamp=False)),
        KnownMistake("odd pixel before", "for an odd total TensorFlow puts the extra pixel after: (total // 2, "
                     "total - total // 2)", _padding_formula(odd="before")),
        KnownMistake("dilation ignored", "a dilated kernel spans d * (k - 1) + 1 pixels",
                     _padding_formula(dilation=False)),
    ),
}


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
