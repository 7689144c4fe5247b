"""Why a name the grader asked for is missing: what a student reads when a contract name is absent.

Built from what the loader knows (statements the notebook filter skipped, files that did not
load) and what the worker reported while it ran the submission's top level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graders.harness.contract import signature_text

if TYPE_CHECKING:
    from graders.submission.loader import PreparedSubmission


def missing_name_message(prepared: PreparedSubmission, name: str, *, detail: str = "", is_global: bool = False,
                         load_problems: list[dict] = ()) -> str:
    """The message of a MissingName: the name, the contract, and the likely cause.

    Args:
        detail: the worker's own explanation (e.g. "`grad_cam` is a dict, not a function").
        is_global: the grader read a constant rather than calling a function.
        load_problems: what failed while the worker ran the submission's top level.
    """
    if detail and detail != name:
        return f"`{name}` cannot be called: {detail}"
    message = f"`{name}` is not defined in your submission"
    contract = signature_text(name)
    if contract:
        message += f" (the contract: {contract})"
    hint = skipped_hint(prepared, name, is_global=is_global)
    problems = [f"{p.origin}: {p.message}" for p in prepared.problems]
    problems += [f"{p['origin']}: {p['message']}" for p in load_problems]
    if hint:
        message += f". {hint}"
    if problems:
        message += ". These parts of the submission did not load: " + "; ".join(problems)
    return message


def skipped_hint(prepared: PreparedSubmission, name, *, is_global: bool = False) -> str:
    """A sentence when `name` is only set by a statement the notebook filter skipped; else ""."""
    advice = ("write its value as a literal (numbers, strings, tuples, lists, dicts)" if is_global
              else "compute it inside your function")
    for skipped in prepared.skipped:
        if name and name in skipped.names:
            return (
                f"`{name}` is only set by a top-level statement the grader skips "
                f"({skipped.origin}: {skipped.source!r}, {skipped.reason}); "
                f"the grader does not run notebook experiments: {advice}"
            )
    return ""


def locate(prepared: PreparedSubmission, filename: str, line: int) -> str:
    """Where line `line` of the worker's file `filename` is in the student's own files.

    Returns:
        e.g. "hw3.py, line 12"; for a notebook, its cell and the line in that cell.
    """
    for unit in prepared.units:
        if unit.filename == filename:
            return f"{unit.origin}, line {line}"
    return f"{filename}, line {line}"
