"""What `check()` grades in a notebook: the cells this kernel ran, and how they compare with the saved file.

`check("q5")` grades the definitions the kernel holds now: the cells it ran, in the order it ran them
(IPython's input history), written as a notebook whose cell N is `In [N]`, then loaded as any submission
(imports, `def`, `class` and literal assignments kept; top-level calls skipped). The TA grades the file
the student submits, so the saved notebook is compared with them, definition by definition: a difference
(edited and run but not saved, saved but not run, a deleted cell whose definition the kernel still holds)
is said at the top of the result, as is the case where the saved file cannot be found (Colab).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from graders.core.errors import SubmissionLoadError
from graders.submission.loader import PreparedSubmission, prepare_submission

KERNEL_NOTEBOOK = "kernel-cells.ipynb"  # how messages name the kernel's cells: "kernel-cells.ipynb, cell 9"
KIT_CALLS = frozenset({"check", "check_all"})


@dataclass(frozen=True)
class Comparison:
    """The saved notebook against the kernel's cells: where it is, and the names defined differently."""

    saved: str  # the saved notebook's path, "" when it could not be found
    differ: tuple[str, ...] = ()  # defined in both, differently
    kernel_only: tuple[str, ...] = ()  # defined in the kernel's cells, not in the saved file
    saved_only: tuple[str, ...] = ()  # defined in the saved file, not run in this kernel
    problem: str = ""  # why the saved file could not be compared

    @property
    def same(self) -> bool:
        return bool(self.saved) and not (self.differ or self.kernel_only or self.saved_only or self.problem)


def kernel_cells(shell) -> list[str]:
    """The raw source of every cell the kernel ran this session, `In [1]` first."""
    return [str(source) for source in list(shell.history_manager.input_hist_raw)[1:]]


def write_kernel_notebook(cells: list[str], folder: Path) -> Path:
    """Write the kernel's cells as a notebook whose cell N is `In [N]`, for the loader.

    The cells that only use hw3check (`from hw3check import check`, `check("q5")`) are left empty and
    those after the last other cell are left out, so that checking again grades the same content (and
    keeps the same worker).
    """
    kept = [("" if uses_only_the_kit(source) else source) for source in cells]
    while kept and not kept[-1].strip():
        kept.pop()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in kept])
    for number, cell in enumerate(notebook.cells, start=1):
        cell.id = f"in-{number}"
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / KERNEL_NOTEBOOK
    text = nbformat.writes(notebook)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def uses_only_the_kit(source: str) -> bool:
    """Whether a cell does nothing but import hw3check and call check/check_all (or is empty)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        body = ast.parse("\n".join(lines)).body
    except (SyntaxError, ValueError):
        return False
    return all(_kit_statement(statement) for statement in body)


def _kit_statement(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Import):
        return all(alias.name.split(".")[0] == "hw3check" for alias in statement.names)
    if isinstance(statement, ast.ImportFrom):
        return (statement.module or "").split(".")[0] == "hw3check"
    value = statement.value if isinstance(statement, (ast.Expr, ast.Assign)) else None
    if not isinstance(value, ast.Call):
        return False
    function = value.func
    if isinstance(function, ast.Name):
        return function.id in KIT_CALLS
    return isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) and \
        function.value.id == "hw3check"


def saved_notebook(shell, given: str | os.PathLike | None = None) -> Path | None:
    """The notebook file this kernel belongs to: `given`, else what VS Code or Jupyter tell the kernel
    (`__vsc_ipynb_file__`; `__session__` or $JPY_SESSION_NAME, a path that older Jupyter Servers give relative
    to their root: then its name in the kernel's folder); None when unknown (Colab keeps it in Drive)."""
    namespace = shell.user_ns if shell is not None else {}
    candidates = [given, namespace.get("__vsc_ipynb_file__"), namespace.get("__session__"),
                  os.environ.get("JPY_SESSION_NAME")]
    for candidate in candidates:
        if not candidate or not str(candidate).endswith(".ipynb"):
            continue
        for path in (Path(candidate).expanduser(), Path.cwd() / Path(candidate).name):
            if path.is_file():
                return path.resolve()
    return None


def compare(kernel: PreparedSubmission, saved: Path | None) -> Comparison:
    """The saved notebook's top-level definitions against those of the kernel's cells."""
    if saved is None:
        return Comparison(saved="")
    try:
        on_disk = definitions(prepare_submission(saved))
    except SubmissionLoadError as exc:
        return Comparison(saved=str(saved), problem=str(exc))
    ran = definitions(kernel)
    return Comparison(saved=str(saved),
                      differ=tuple(sorted(name for name in ran.keys() & on_disk.keys() if ran[name] != on_disk[name])),
                      kernel_only=tuple(sorted(ran.keys() - on_disk.keys())),
                      saved_only=tuple(sorted(on_disk.keys() - ran.keys())))


def definitions(prepared: PreparedSubmission) -> dict[str, str]:
    """{name: its last definition, as an AST dump} of every top-level def, class or assignment the loader kept."""
    found: dict[str, str] = {}
    for unit in prepared.units:
        try:
            body = ast.parse(unit.code).body
        except (SyntaxError, ValueError):
            continue
        for statement in body:
            for name in _bound(statement):
                found[name] = ast.dump(statement)
    return found


def _bound(statement: ast.stmt) -> list[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return [node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)]
    return []
