"""`check("q5")` and `check_all()` in Jupyter or Colab: the public checks of the kernel's current definitions.

What is graded is what the kernel ran (hw3check/kernel.py): the cells in the order they ran, loaded in
the sandbox as any submission. The grading runs in a separate process that stays warm for the kernel's
life (hw3check/server.py), and the result is shown in the cell: each check passed or failed, its message
and its points, under a line that says these are the public checks only, and a line that says whether the
saved notebook holds the same definitions (the TA grades the file that is submitted).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graders.core.options import default_report_path
from graders.core.results import GradingResult, read_json
from graders.questions import QUESTIONS
from graders.submission.loader import prepare_submission
from hw3check.kernel import Comparison, compare, kernel_cells, saved_notebook, write_kernel_notebook
from hw3check.server import GradingServer
from reports.cell import Note, render_cell, text_lines

_state: dict = {}  # this kernel's grading folder and server, made on the first check


@dataclass
class CheckOutput:
    """A check's result as a notebook cell shows it (`_repr_html_`), or a terminal (`repr`)."""

    result: GradingResult | None
    notes: list[Note]
    report: str
    error: str = ""

    def _repr_html_(self) -> str:
        return render_cell(self.result, notes=self.notes, report=self.report, error=self.error)

    def __repr__(self) -> str:
        return "\n".join(text_lines(self.result, notes=self.notes, report=self.report, error=self.error))

    @property
    def score(self) -> float:
        return self.result.score if self.result else 0.0


def check(*questions: str, notebook: str | os.PathLike | None = None) -> CheckOutput:
    """The public checks of `questions` ("q5", or several) on this kernel's current definitions.

    Args:
        notebook: the saved notebook to compare the kernel's cells with (found by itself in Jupyter and VS
            Code); outside a notebook, the file to grade.

    Raises:
        ValueError: no question, or one this kit does not hold.
    """
    held = [question.id for question in QUESTIONS]
    if not questions:
        raise ValueError(f"name the questions to check, e.g. check(\"{held[-1]}\"), or call check_all()")
    unknown = [question for question in questions if question not in held]
    if unknown:
        raise ValueError(f"this kit has no {', '.join(map(str, unknown))}: it checks {', '.join(held)}")
    return _grade(tuple(questions), notebook)


def check_all(*, notebook: str | os.PathLike | None = None) -> CheckOutput:
    """The public checks of every question of the kit, on this kernel's current definitions."""
    return _grade((), notebook)


def _grade(questions: tuple[str, ...], notebook) -> CheckOutput:
    folder = _folder()
    shell = _ipython()
    if shell is not None:
        submission = write_kernel_notebook(kernel_cells(shell), folder)
        comparison = compare(prepare_submission(submission), saved_notebook(shell, notebook))
        notes = kernel_notes(comparison)
    elif notebook is not None:
        submission, notes = Path(notebook).resolve(), [Note("info", f"Graded the saved file {notebook}.")]
    else:
        raise ValueError("outside Jupyter, name the notebook to check: check(\"q5\", notebook=\"hw3.ipynb\")")
    partial = questions if questions and len(questions) < len(QUESTIONS) else ()
    report = str(default_report_path(str(submission), partial_questions=partial))
    json_path = folder / "results.json"
    json_path.unlink(missing_ok=True)
    reply = _server(folder).grade({"submission": str(submission), "questions": list(questions),
                                   "json": str(json_path), "report": report})
    result = read_json(json_path)
    error = reply.get("error", "") or ("" if result else "the grading wrote no result (exit code "
                                       f"{reply.get('exit_code')}); see {folder / 'grading.log'}")
    return CheckOutput(result, notes, report, error)


def kernel_notes(comparison: Comparison) -> list[Note]:
    """What the result says of the definitions it graded: the kernel's, and how the saved file differs."""
    graded = "Graded the cells this kernel ran, in the order it ran them (cell N is In [N])."
    if not comparison.saved:
        return [Note("warning", f"{graded} The saved notebook could not be found here (Colab keeps it in Drive): "
                                "the TA grades the file you submit, so save it, run it from the top "
                                "(Restart and run all), and check_all() again before you submit.")]
    name = Path(comparison.saved).name
    if comparison.problem:
        return [Note("warning", f"{graded} The saved {name} could not be read: {comparison.problem}")]
    if comparison.same:
        return [Note("info", f"{graded} They define the same as the saved {name}.")]
    parts = [f"{_names(comparison.differ)} differ" if comparison.differ else "",
             f"{_names(comparison.kernel_only)} only in this kernel (not saved, or their cell was deleted)"
             if comparison.kernel_only else "",
             f"{_names(comparison.saved_only)} only in the saved file (not run)" if comparison.saved_only else ""]
    return [Note("warning", f"{graded} Your saved {name} is not what this kernel ran: "
                            f"{'; '.join(part for part in parts if part)}. The TA grades the file you submit: "
                            "save it, run it from the top (Restart and run all), and check again.")]


def _names(names: tuple[str, ...], limit: int = 6) -> str:
    shown = ", ".join(f"`{name}`" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _folder() -> Path:
    if "folder" not in _state:
        _state["folder"] = Path(tempfile.mkdtemp(prefix="hw3check-"))
    return _state["folder"]


def _server(folder: Path) -> GradingServer:
    if "server" not in _state:
        _state["server"] = GradingServer(folder)
    return _state["server"]


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "history_manager") else None
