"""Static analysis of student code: parse it, and cut notebooks down to their definitions.

Nothing here runs student code. A notebook keeps only the statements that define things (imports,
defs, classes, plain-value assignments), so the sandboxed worker can exec it without re-running
experiments. The rules, statement by statement in notebook order:
- top-level calls, loops, magics, shell lines, `with` blocks and assignments whose value calls
  something are skipped;
- a `def` or `class` is skipped when defining it would run something not known to be harmless
  (a default value, decorator, annotation, base class, metaclass or class body that calls an
  unknown function: see `definitions` for the short list of known calls);
- a statement that uses a name only a skipped statement sets is skipped (it would raise NameError);
- a name that a skipped statement sets or changes in place (`TABLE.append(row)` in a skipped loop,
  `BEST[k] = v`, `x += 1`) counts as set by it, even when kept code set it before: the kept code
  then leaves it undefined at that point, so a grader that reads it says which statement to fix
  instead of grading a half-built value.
Every skipped statement is listed with its cell, line and reason, and the kept code carries a map
from each of its lines back to the student's own cell and line.
"""

from __future__ import annotations
import __future__

import ast
import re
import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import nbformat

from graders.core.errors import SubmissionLoadError
from graders.submission.definitions import Bindings, DefinitionRules
from graders.submission.effects import bound_names, changed_names, eager_nodes
from graders.submission.python import (
    DEFINITIONS,
    defined_names,
    is_main_guard,
    nested_statements,
    parse_python,
)

__all__ = ["FilteredNotebook", "LoadProblem", "SkippedStatement", "bound_names", "defined_names",
           "filter_notebook", "parse_python"]

_EXCERPT_LINES = 8
_EXCERPT_LINE_CHARS = 200
_SILENT = "silent"  # skip reason for statements that do nothing: not worth reporting
# `%time f()`, `!ls`, and their assigned forms `files = !ls`, `a, b = %sx ls`
_MAGIC_LINE = re.compile(
    r"^(?P<indent>\s*)(?:(?P<targets>[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=\s*)?(?P<kind>[%!])"
)
_PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")  # their body is Python the notebook ran
_STATEMENT_REASONS = {ast.For: "loop", ast.AsyncFor: "loop", ast.While: "loop", ast.With: "with block",
                      ast.AsyncWith: "with block", ast.AugAssign: "augmented assignment", ast.Delete: "del"}
_EAGER_REASONS = {ast.Call: "calls a function", ast.Await: "uses await", ast.Yield: "uses yield",
                  ast.YieldFrom: "uses yield", ast.NamedExpr: "uses :="}


@dataclass(frozen=True)
class SkippedStatement:
    """A notebook statement the worker will not run, and why.

    `names` are the names it sets or changes (so they count as set by it); `changes` the subset it
    changes in place (`TABLE.append(row)`); `kind` is "definition", "assignment", "magic" or "statement".
    """

    origin: str
    source: str
    reason: str
    names: tuple[str, ...]
    changes: tuple[str, ...] = ()
    kind: str = "statement"


@dataclass(frozen=True)
class LoadProblem:
    """Something in the submission that could not be loaded; shown to the student."""

    origin: str
    message: str


@dataclass(frozen=True)
class FilteredNotebook:
    """The code kept from one notebook, what was dropped, and the names the code defines.

    `line_map[i]` is the (cell, line in that cell) that line i + 1 of `code` comes from; cell 0 marks
    the grader's own comment lines.
    """

    code: str
    skipped: tuple[SkippedStatement, ...]
    problems: tuple[LoadProblem, ...]
    definitions: tuple[str, ...]
    line_map: tuple[tuple[int, int], ...] = ()


def filter_notebook(text: str, *, origin: str) -> FilteredNotebook:
    """Keep a notebook's definitions and drop the statements that run experiments.

    Args:
        text: the notebook file's JSON text.
        origin: the notebook's path in the submission, for messages.
    Returns:
        The kept code of all code cells, joined with comments marking cell boundaries.
    Raises:
        SubmissionLoadError: the text is not a Jupyter notebook.
    """
    cell_filter = _CellFilter(origin)
    for number, source in _code_cells(text, origin):
        cell_filter.add_cell(number, source)
    return cell_filter.result()


def cell_origin(origin: str, cell: int, line: int | None = None) -> str:
    """How messages name a place in a notebook: "hw3.ipynb, cell 9, line 1"."""
    return f"{origin}, cell {cell}" + (f", line {line}" if line else "")


def _code_cells(text: str, origin: str) -> list[tuple[int, str]]:
    """(1-based index among all cells, source) of every code cell."""
    cells = _read_notebook(text, origin).get("cells")
    if not isinstance(cells, list):
        raise SubmissionLoadError(f"{origin} is not a Jupyter notebook: it has no list of cells")
    code_cells = []
    for number, cell in enumerate(cells, start=1):
        source = cell.get("source", "") if isinstance(cell, dict) else None
        if not isinstance(source, str):
            raise SubmissionLoadError(f"{origin} is not a valid notebook: cell {number} is malformed")
        if cell.get("cell_type") == "code":
            code_cells.append((number, source))
    return code_cells


def _read_notebook(text: str, origin: str) -> dict:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about e.g. missing cell ids
            return nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as err:  # noqa: BLE001 - nbformat raises anything from TypeError to its own types
        detail = f"{type(err).__name__}: {err}"[:200]
        raise SubmissionLoadError(f"{origin} is not a valid Jupyter notebook ({detail}); re-save it") from None


@dataclass(frozen=True)
class _Magic:
    line: int
    text: str
    reason: str
    names: tuple[str, ...]


class _CellFilter:
    """Accumulates the kept code of a notebook cell by cell, with the map back to cells and lines."""

    def __init__(self, origin: str) -> None:
        self._origin = origin
        self._future: list[tuple[str, int, int]] = []  # (source, cell, line): hoisted to the top
        self._lines: list[str] = []
        self._line_map: list[tuple[int, int]] = []
        self._cell_with_header = 0
        self._skipped: list[SkippedStatement] = []
        self._problems: list[LoadProblem] = []
        self._kept: list[ast.stmt] = []
        self._kept_names: set[str] = set()
        self._skipped_names: set[str] = set()  # set last by a skipped statement: undefined in the kept code
        self._bindings = Bindings()

    def add_cell(self, number: int, source: str) -> None:
        origin = cell_origin(self._origin, number)
        if source.lstrip().startswith("%%"):
            self._skip_cell_magic(number, source)
            return
        try:
            text, module, magics = self._parse_cell(source)
        except SubmissionLoadError as err:
            self._problems.append(LoadProblem(origin, str(err)))
            return
        events = [(m.line, 0, m) for m in magics] + [(s.lineno, 1, s) for s in module.body]
        for _, _, event in sorted(events, key=lambda e: e[:2]):
            if isinstance(event, _Magic):
                self._skip(number, event.line, event.text, event.reason, event.names, (), "magic")
            else:
                self._statement(number, text, event)

    def result(self) -> FilteredNotebook:
        lines, line_map = [], []
        for source, cell, line in self._future:  # must come first
            lines.append(source)
            line_map.append((cell, line))
        code = "\n".join(lines + self._lines)
        line_map += self._line_map
        definitions = tuple(n for n in defined_names(self._kept) if n not in self._skipped_names)
        return FilteredNotebook(code, tuple(self._skipped), tuple(self._problems), definitions, tuple(line_map))

    def _parse_cell(self, source: str) -> tuple[str, ast.Module, list[_Magic]]:
        """Parse the cell; only if that fails, blank out magic and shell lines and retry."""
        try:  # a line starting with % can be valid Python, e.g. inside a multi-line string
            return source, parse_python(source), []
        except SubmissionLoadError:
            text, magics = _strip_magics(source)
            return text, parse_python(text), magics

    def _statement(self, cell: int, text: str, stmt: ast.stmt) -> None:
        reason = self._skip_reason(stmt)
        if reason is None:
            self._keep(cell, text, stmt)
        elif reason != _SILENT:
            kind = ("definition" if isinstance(stmt, DEFINITIONS)
                    else "assignment" if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else "statement")
            changes = changed_names(stmt, self._bindings.functions, self._bindings.data)
            self._skip(cell, _first_line(stmt), _statement_source(text, stmt), reason, bound_names(stmt), changes, kind)

    def _keep(self, cell: int, text: str, stmt: ast.stmt) -> None:
        names = bound_names(stmt)
        self._kept.append(stmt)
        self._kept_names.update(names)
        self._skipped_names.difference_update(names)
        self._bindings.keep(stmt)
        source = _statement_source(text, stmt)
        first_line = _first_line(stmt)
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            self._future.append((source, cell, first_line))
            return
        self._emit(cell, [(line, (cell, first_line + i)) for i, line in enumerate(source.split("\n"))])

    def _skip(self, cell: int, line: int, source: str, reason: str, names: tuple[str, ...],
              changes: tuple[str, ...], kind: str) -> None:
        """List a skipped statement; what it sets or changes becomes undefined from here on."""
        origin = cell_origin(self._origin, cell, line)
        every = tuple(dict.fromkeys([*names, *changes]))
        kept_until_now = [n for n in every if n in self._kept_names and n not in self._skipped_names]
        for name in kept_until_now:
            self._emit(cell, [(text, (cell, line)) for text in _forget_code(name, origin)])
        self._skipped_names.update(every)
        self._bindings.forget(every)
        self._skipped.append(SkippedStatement(origin, _excerpt(source), reason, every, changes, kind))

    def _skip_cell_magic(self, cell: int, source: str) -> None:
        first, _, body = source.lstrip().partition("\n")
        names: tuple[str, ...] = ()
        changes: tuple[str, ...] = ()
        if first.split()[0] in _PYTHON_CELL_MAGICS:  # e.g. %%time: what its body sets counts as set by it
            try:
                statements = parse_python(body).body
            except SubmissionLoadError:
                statements = []
            names = tuple(n for s in statements for n in bound_names(s))
            changes = tuple(n for s in statements for n in changed_names(s, self._bindings.functions, self._bindings.data))
        self._skip(cell, 0, source, "cell magic", names, changes, "magic")

    def _emit(self, cell: int, lines: list[tuple[str, tuple[int, int]]]) -> None:
        if self._cell_with_header != cell:  # the first code kept from this cell
            self._cell_with_header = cell
            self._lines.append(f"# --- {_comment_safe(cell_origin(self._origin, cell))} ---")
            self._line_map.append((0, 0))
        for text, place in lines:
            self._lines.append(text)
            self._line_map.append(place)

    def _skip_reason(self, stmt: ast.stmt) -> str | None:
        """Why the worker must not run this top-level statement; None if it only defines things."""
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            return _SILENT
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            known = all(a.name in __future__.all_feature_names for a in stmt.names)
            return None if known else "unknown __future__ feature"  # it would stop the whole notebook compiling
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return None
        if isinstance(stmt, DEFINITIONS):
            return DefinitionRules(self._bindings, self._skipped_names).reason(stmt)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            return self._eager_reason("assignment", stmt)
        if isinstance(stmt, ast.If) and is_main_guard(stmt):
            return "__main__ block"
        if isinstance(stmt, (ast.If, ast.Try, ast.TryStar)):
            return self._block_reason(stmt)
        if isinstance(stmt, ast.Expr):
            kinds = {type(node) for node in eager_nodes(stmt.value)}
            if ast.Call in kinds:
                return "top-level call"
            return "top-level await" if ast.Await in kinds else "expression"
        return _STATEMENT_REASONS.get(type(stmt), type(stmt).__name__.lower())

    def _block_reason(self, stmt: ast.If | ast.Try | ast.TryStar) -> str | None:
        kind = "if" if isinstance(stmt, ast.If) else "try"
        tests = [stmt.test] if isinstance(stmt, ast.If) else [h.type for h in stmt.handlers if h.type]
        for test in tests:
            reason = self._eager_reason(f"{kind} test", test)
            if reason is not None:
                return reason
        for inner in nested_statements(stmt):
            reason = self._skip_reason(inner)
            if reason not in (None, _SILENT):
                return f"{kind} block: {reason}"
        return None

    def _eager_reason(self, what: str, node: ast.AST) -> str | None:
        """Why evaluating `node` may do real work or fail: a call, await, yield, := or a skipped name."""
        lazy = self._bindings.future_annotations
        for child in eager_nodes(node, lazy_annotations=lazy):
            reason = _EAGER_REASONS.get(type(child))
            if reason is not None:
                return f"{what} {reason}"
        for child in eager_nodes(node, lazy_annotations=lazy):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id in self._skipped_names:
                return f"{what} uses {child.id!r}, which only a skipped statement sets"
        return None


def _strip_magics(source: str) -> tuple[str, list[_Magic]]:
    """The cell with IPython magic and shell lines blanked, and each of those lines."""
    lines = source.split("\n")  # not splitlines(): it also splits at characters Python keeps in strings
    magics = []
    for index, line in enumerate(lines):
        match = _MAGIC_LINE.match(line)
        if match is None:
            continue
        targets = tuple(t.strip() for t in (match["targets"] or "").split(","))
        reason = "magic" if match["kind"] == "%" else "shell command"
        magics.append(_Magic(index + 1, line, reason, tuple(t for t in targets if t)))
        lines[index] = f"{match['indent']}pass" if match["indent"] else ""  # keeps an enclosing block non-empty
    return "\n".join(lines), magics


def _forget_code(name: str, origin: str) -> list[str]:
    """Kept code that undefines `name` where a skipped statement sets or changes it.

    try/del, not globals().pop(): the student may have rebound `globals`.
    """
    return [f"try:  # {_comment_safe(origin)} (skipped) sets or changes {name}",
            f"    del {name}", "except NameError:", "    pass"]


def _first_line(stmt: ast.stmt) -> int:
    return min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])


def _statement_source(text: str, stmt: ast.stmt) -> str:
    """The statement's original text, decorators included (a def's own position starts at `def`)."""
    decorators = getattr(stmt, "decorator_list", [])
    span = SimpleNamespace(lineno=_first_line(stmt), col_offset=0 if decorators else stmt.col_offset,
                           end_lineno=stmt.end_lineno, end_col_offset=stmt.end_col_offset)
    return ast.get_source_segment(text, span) or ""


def _excerpt(source: str) -> str:
    """The statement as the student wrote it, lines kept, cut to a few lines of bounded length."""
    lines = source.strip("\n").rstrip().split("\n")
    shown = [line if len(line) <= _EXCERPT_LINE_CHARS else line[: _EXCERPT_LINE_CHARS - 3] + "..."
             for line in lines[:_EXCERPT_LINES]]
    if len(lines) > _EXCERPT_LINES:
        shown.append("...")
    return "\n".join(shown).strip()


def _comment_safe(text: str) -> str:
    """A path may hold newlines; in a `#` comment they would turn into code."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
