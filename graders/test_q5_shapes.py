"""q5: convolution / dilated-convolution / pooling output sizes, 'same' padding, and the layer table.

Cases are drawn from the seed; every family of cases is one check, so a formula that is right
only for stride 1 (say) loses exactly the strided checks.
"""

from dataclasses import dataclass

import pytest

from graders.harness.compare import as_int
from graders.harness.errors import Unanswered, WrongType, require
from graders.harness.expect import expect_same_ints
from reference import q5_shapes as ref


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q5]."""

    cases: int  # random cases per check


@pytest.fixture(scope="module")
def settings(rubric) -> Settings:
    return rubric.section("q5", Settings)


def _cases(rng, settings, draw):
    """Draw cases until there are `cases` of them; `draw` returns None to reject one."""
    wanted, cases = settings.cases, []
    while len(cases) < wanted:
        case = draw(rng)
        if case is not None:
            cases.append(case)
    return cases


def _int(rng, low, high):
    return int(rng.integers(low, high + 1))


def _conv_case(stride_range, dilation_range, padding):
    def draw(rng):
        size, kernel = _int(rng, 5, 64), _int(rng, 1, 7)
        stride, dilation = _int(rng, *stride_range), _int(rng, *dilation_range)
        if padding == "valid" and size < dilation * (kernel - 1) + 1:
            return None  # a real layer cannot produce an empty output: no such case
        return {"size": size, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}

    return draw


CONV_FAMILIES = {
    "valid": _conv_case((1, 1), (1, 1), "valid"),
    "strided": _conv_case((2, 4), (1, 1), "valid"),
    "same": _conv_case((1, 4), (1, 3), "same"),
    "dilated": _conv_case((1, 3), (2, 4), "valid"),
}


@pytest.mark.check("q5.conv.{family}")
@pytest.mark.parametrize("family", CONV_FAMILIES)
def test_conv_output_size(student, rng, settings, family):
    for params in _cases(rng, settings, CONV_FAMILIES[family]):
        expect_same_ints(student, "conv_output_size", ref.conv_output_size, params)


def _pool_default_stride(rng):
    pool, size = _int(rng, 2, 4), _int(rng, 4, 64)
    return {"size": size, "pool": pool}


def _pool_overlapping(rng):
    pool, stride, size = _int(rng, 2, 5), _int(rng, 1, 4), _int(rng, 5, 64)
    return {"size": size, "pool": pool, "stride": stride, "padding": "valid"} if pool != stride else None


def _pool_same(rng):
    return {"size": _int(rng, 4, 64), "pool": _int(rng, 2, 5), "stride": _int(rng, 1, 4), "padding": "same"}


POOL_FAMILIES = {"default_stride": _pool_default_stride, "overlapping": _pool_overlapping, "same": _pool_same}


@pytest.mark.check("q5.pool.{family}")
@pytest.mark.parametrize("family", POOL_FAMILIES)
def test_pool_output_size(student, rng, settings, family):
    for params in _cases(rng, settings, POOL_FAMILIES[family]):
        expect_same_ints(student, "pool_output_size", ref.pool_output_size, params)


def _padding_case(strided):
    def draw(rng):
        stride = _int(rng, 2, 4) if strided else 1
        size = _int(rng, 4, 64)
        if strided and rng.random() < 0.5:
            size -= size % stride  # sizes divisible by the stride are where stride-1 formulas break
        return {"size": max(size, stride), "kernel": _int(rng, 1, 7), "stride": stride, "dilation": _int(rng, 1, 3)}

    return draw


@pytest.mark.check("q5.same_padding.{family}")
@pytest.mark.parametrize("family", ["stride1", "strided"])
def test_same_padding(student, rng, settings, family):
    for params in _cases(rng, settings, _padding_case(strided=family == "strided")):
        expect_same_ints(student, "same_padding", ref.same_padding, params)


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
    if isinstance(row, (list, tuple)) and len(row) == 2 and isinstance(row[0], (list, tuple)):
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
    shape, params = _parse_row(student_table[row - 1], where)
    check.details["actual"] = [shape, params]
    problems = []
    if shape != expected_shape:
        problems.append(f"expected output {_shape_text(expected_shape)}, got {_shape_text(shape)}")
    if params != expected_params:
        problems.append(f"expected {expected_params} parameters, got {params}")
    require(not problems, lambda: f"{where}: " + "; ".join(problems))


def _parse_row(row, where):
    if not isinstance(row, (list, tuple)) or len(row) != 2:
        raise WrongType(f"{where}: expected a pair (output_shape or None, params), got {row!r:.80}")
    shape, params = row
    if shape is not None:
        if not isinstance(shape, (list, tuple)):
            raise WrongType(f"{where}: the output shape should be a tuple (H, W, C) or None, got {shape!r:.60}")
        if len(shape) == 4 and shape[0] is None:
            shape = shape[1:]  # (None, H, W, C) as Keras prints it: the batch axis is not part of the answer
        shape = tuple(as_int(value, what=f"{where} output shape") for value in shape)
    return shape, as_int(params, what=f"{where} parameter count")


def _shape_text(shape):
    return "None (invalid layer)" if shape is None else str(tuple(shape))
