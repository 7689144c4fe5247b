"""Turn a check's `details` dict (what a grader attached) into things the report can draw.

Keys drawn specially:
- "layer" + "actual" + "answer" (or "expected", as earlier results have it) ([output shape or None, params]
  pairs), with "wrong_cells": a row of q5's layer table;
- "answer": a judge's expected value of an answer that does not depend on the seed (q5's table, q6's counts,
  the multiple choice). Shown only where `show_answer` says (a TA's hidden run): a student-visible output
  never shows it, since the hidden seed does not change it;
- "diagnosis" (str or list of str): the closest known mistake, in the check's headline;
- "images" (list of {"title", "png_base64"}): inline PNG images, after checking they are PNGs;
- "curve" ({"epoch", "...accuracy", "...loss", "threshold"}): an SVG training curve;
- "differences" (str or list of str): a bulleted list.
Any other key, and a known key whose value does not have that form, is shown as escaped
key/value text (a list of flat dicts as a table). Nothing here produces markup: the template
escapes every string.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
from dataclasses import dataclass, field

from reports.chart import Curve, training_curve

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 4 * 2**20
SMALL_IMAGE_PIXELS = 100
MAX_TEXT_CHARS = 6000
MAX_ITEMS = 200
MAX_COLUMNS = 12


ANSWER = "answer"  # details key of an answer that does not depend on the seed: the TA's only
ROW_KEYS = ("layer", "expected", "actual", ANSWER, "wrong_cells")  # what a drawn layer-table row consumes


@dataclass(frozen=True)
class LayerRow:
    """One row of q5's layer table: the student's cells, which are wrong, and (a TA's report only) the expected."""

    check_id: str
    number: str  # the row number, from the check id ("q5.table.layer2" -> "2")
    layer: str
    expected_shape: str  # "" where the answer is not shown
    actual_shape: str
    expected_params: str
    actual_params: str
    shape_wrong: bool
    params_wrong: bool


@dataclass(frozen=True)
class Image:
    title: str
    data_uri: str
    width: int  # pixels, from the PNG header
    height: int

    @property
    def small(self) -> bool:
        """A raw heatmap (e.g. 28x28), shown enlarged with visible pixels; a figure keeps its size."""
        return max(self.width, self.height) < SMALL_IMAGE_PIXELS


@dataclass(frozen=True)
class Extra:
    """A key the report has no special drawing for: its value as text, or as a table for a list of dicts."""

    key: str
    text: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass
class Details:
    """Everything the report shows for one check besides its message."""

    diagnoses: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    curve: Curve | None = None
    layer_row: LayerRow | None = None
    notes: list[str] = field(default_factory=list)  # what was left out, and why
    other: list[Extra] = field(default_factory=list)  # every other key, as escaped text

    @property
    def shown_in_body(self) -> bool:
        return bool(self.differences or self.images or self.curve or self.notes or self.other)


def check_details(check_id: str, details, *, show_answer: bool = False) -> Details:
    """Classify one check's details; never raises on malformed grader data.

    Args:
        show_answer: draw the expected value of an answer that does not depend on the seed ("answer", and
            a layer-table row's expected cells): a TA's hidden run only, never a student-visible output.
    """
    result = Details()
    if not isinstance(details, dict):
        result.other.append(extra("details", details))
        return result
    remaining = dict(details)
    row = layer_row(check_id, remaining, show_answer=show_answer)
    if row is not None:
        result.layer_row = row
        for key in ROW_KEYS:
            remaining.pop(key, None)  # "actual" may be absent: the row was missing
    if ANSWER in remaining and not show_answer:
        remaining.pop(ANSWER)
    diagnoses = _strings(remaining.get("diagnosis"))
    if diagnoses is not None:
        result.diagnoses = diagnoses
        remaining.pop("diagnosis")
    differences = _strings(remaining.get("differences"))
    if differences is not None:
        result.differences = differences
        remaining.pop("differences")
    if isinstance(remaining.get("images"), list):
        result.images, result.notes = images(remaining.pop("images"))
    curve = training_curve(remaining.get("curve"))
    if curve is not None:
        result.curve = curve
        drawn = remaining.pop("curve")
        result.other += [extra(f"curve[{key!r}] (not drawn)", value) for key, value in drawn.items()
                         if str(key) in curve.ignored]
    result.other += [extra(key, value) for key, value in remaining.items()]
    return result


def extra(key, value) -> Extra:
    """A generic key/value; a list of flat dicts (e.g. tuner trials) becomes a table."""
    if isinstance(value, (list, tuple)) and 0 < len(value) <= MAX_ITEMS and all(isinstance(v, dict) for v in value):
        columns = list(dict.fromkeys(str(k) for row in value for k in row))
        if len(columns) <= MAX_COLUMNS:
            rows = tuple(tuple(plain_text(_rounded(row[k])) if k in row else "" for k in columns)
                         for row in ({str(k): v for k, v in row.items()} for row in value))
            return Extra(plain_text(key), "", tuple(columns), rows)
    return Extra(plain_text(key), plain_text(_rounded(value)))


def _rounded(value, depth: int = 0):
    """Floats to 6 significant digits, inside containers too: a report is read, not recomputed."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.6g}")
    if depth < 8 and isinstance(value, (list, tuple)):
        return [_rounded(v, depth + 1) for v in value]
    if depth < 8 and isinstance(value, dict):
        return {k: _rounded(v, depth + 1) for k, v in value.items()}
    return value


def layer_row(check_id: str, details: dict, *, show_answer: bool = False) -> LayerRow | None:
    """The q5 table row in `details`, or None unless it has layer/actual/answer pairs.

    Which cells are wrong comes from the judge's "wrong_cells" where it gave them, else from the answer;
    the expected cells are drawn only with `show_answer`.
    """
    expected, actual = details.get(ANSWER, details.get("expected")), details.get("actual")
    if "layer" not in details or not (_pair(expected) and (_pair(actual) or actual is None)):
        return None
    shown = (shape_text(expected[0]), plain_text(expected[1])) if show_answer else ("", "")
    if actual is None:  # the student's table has no such row, or it could not be read
        return LayerRow(check_id, _row_number(check_id), plain_text(details["layer"]), shown[0], "(missing)",
                        shown[1], "(missing)", True, True)
    wrong = details.get("wrong_cells")
    if isinstance(wrong, list):
        shape_wrong, params_wrong = "shape" in wrong, "params" in wrong
    else:
        shape_wrong = _shape(expected[0]) != _shape(actual[0])
        params_wrong = type(expected[1]) is not type(actual[1]) or expected[1] != actual[1]
    return LayerRow(check_id, _row_number(check_id), plain_text(details["layer"]), shown[0], shape_text(actual[0]),
                    shown[1], plain_text(actual[1]), shape_wrong, params_wrong)


def _row_number(check_id: str) -> str:
    return re.search(r"(\d*)$", check_id).group(1)


def _pair(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2


def _shape(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def shape_text(shape) -> str:
    """(124, 124, 32) for a shape, "None (invalid layer)" for None."""
    if shape is None:
        return "None (invalid layer)"
    if isinstance(shape, (list, tuple)):
        return "(" + ", ".join(plain_text(v) for v in shape) + ("," if len(shape) == 1 else "") + ")"
    return plain_text(shape)


def images(entries: list) -> tuple[list[Image], list[str]]:
    """The entries that are real PNG images, re-encoded; a note for each one left out."""
    kept, notes = [], []
    for number, entry in enumerate(entries[:MAX_ITEMS], start=1):
        title = plain_text(entry.get("title", f"image {number}")) if isinstance(entry, dict) else f"image {number}"
        data, problem = _png_bytes(entry)
        if problem:
            notes.append(f"image {number} ({title[:80]}) was left out: {problem}")
        else:
            width, height = struct.unpack(">II", data[16:24])  # IHDR comes first in every PNG
            kept.append(Image(title, "data:image/png;base64," + base64.b64encode(data).decode("ascii"), width, height))
    if len(entries) > MAX_ITEMS:
        notes.append(f"{len(entries) - MAX_ITEMS} more images were left out")
    return kept, notes


def _png_bytes(entry) -> tuple[bytes, str]:
    if not isinstance(entry, dict) or not isinstance(entry.get("png_base64"), str):
        return b"", "it is not a {title, png_base64} entry"
    text = entry["png_base64"].removeprefix("data:image/png;base64,")
    if len(text) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return b"", f"it is larger than {MAX_IMAGE_BYTES // 2**20} MiB"
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b"", "it is not valid base64"
    if not (data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"):
        return b"", "it is not a PNG image"
    return data, ""


def _strings(value) -> list[str] | None:
    """A str or a list of scalars as a list of text; None for anything else."""
    if isinstance(value, str):
        return [value[:MAX_TEXT_CHARS]]
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        return [plain_text(v) for v in value[:MAX_ITEMS]] + (
            [f"… and {len(value) - MAX_ITEMS} more"] if len(value) > MAX_ITEMS else [])
    return None


def plain_text(value) -> str:
    """Any value as readable text (JSON for containers), capped in length."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars, when details never went through JSON
        value = value.tolist()
    if isinstance(value, str):
        text = value
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        text = "\n".join(value)  # a list of lines (declared hyperparameters, names): one per line
    elif value is None or isinstance(value, (bool, int, float)):
        text = json.dumps(value)
    else:
        text = _json_text(value)
    if len(text) > MAX_TEXT_CHARS:
        return text[:MAX_TEXT_CHARS] + f"… ({len(text) - MAX_TEXT_CHARS} more characters)"
    return text


def _json_text(value) -> str:
    try:
        compact = json.dumps(value, default=str, ensure_ascii=False)
        return compact if len(compact) <= 100 else json.dumps(value, default=str, ensure_ascii=False, indent=1)
    except (TypeError, ValueError):  # non-string keys, circular references
        return repr(value)
