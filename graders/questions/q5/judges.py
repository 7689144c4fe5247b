"""q5's rubric settings and the judges of its checks: integer cases, and the layer table row by row.

A row's message says which of its cells are wrong, and why where a known mistake gives the student's
cell, never what the cell should be: the table is the same whatever the seed, so a student-visible
message that showed it would hand out the answer. The expected row is kept for the TA in the
details' `answer` (shown only in a TA's report).
"""

from dataclasses import dataclass

from graders.core.errors import CheckFailed, require
from graders.core.expect import int_cases_judge
from graders.core.judging import Judges
from graders.core.rubric import observed
from graders.questions.q5.mistakes import MISTAKES


@dataclass(frozen=True)
class Settings:
    """rubric.toml [q5]."""

    cases: int = observed("conv.*", "pool.*", "same_padding.*")  # random cases per check, after the fixed ones


JUDGES = Judges("q5")
JUDGES("int_cases")(int_cases_judge(MISTAKES))


@JUDGES("table_row")
def table_row(observations: dict, settings: Settings, details: dict) -> None:
    """One row of LAYER_TABLE: its output shape and its parameter count, each right or wrong."""
    expected, actual = observations["expected"], observations["actual"]
    where = f"LAYER_TABLE row {observations['row']} ({observations['layer']})"
    details.update(layer=observations["layer"], actual=actual, answer=expected,
                   wrong_cells=[name for name, index in (("shape", 0), ("params", 1)) if actual[index] != expected[index]])
    if observations["representations"]:
        details["representations"] = observations["representations"]
    problems = [_wrong_cell(observations, index) for index in (0, 1) if actual[index] != expected[index]]
    placeholder = observations["placeholder"]
    if problems:
        raise CheckFailed(f"{where}: " + "; ".join(problems) + (f" ({placeholder})" if placeholder else ""),
                          diagnosis=_diagnosis(observations))
    require(placeholder is None, lambda: f"{where}: {placeholder}; this row cannot be graded on its own "
                                         "(fill in every row of the table)")


def _wrong_cell(observations: dict, index: int) -> str:
    value = observations["actual"][index]
    text = (f"the output shape {_shape_text(value)} is wrong" if index == 0 else
            f"the parameter count {value} is wrong")
    if index == 0 and observations["earlier_shape_wrong"]:
        text += " (an earlier row's shape is wrong too, and every shape follows from the one before it)"
    mistake = _matching_mistake(observations, index)
    if mistake is not None:
        text += f"; a known mistake gives it: {mistake.name}: {mistake.explanation}"
    elif index == 0:  # the rule, never whether this row's answer is None: the same words either way
        text += ("; remember that a layer whose output would be empty (a side of 0 or less) has the shape None, "
                 "and so has every later one")
    return text


def _matching_mistake(observations: dict, index: int):
    cell = observations["actual"][index]
    tables = observations["mistakes"]
    return next((m for m in MISTAKES["layer_table"] if m.name in tables and tables[m.name][index] == cell), None)


def _diagnosis(observations: dict) -> str | None:
    names = {_matching_mistake(observations, index) for index in (0, 1)
             if observations["actual"][index] != observations["expected"][index]}
    names.discard(None)
    return "; ".join(sorted(mistake.name for mistake in names)) or None


def _shape_text(shape) -> str:
    return "None (invalid layer)" if shape is None else str(tuple(shape))
