"""Static analysis of student code: parse it, and cut notebooks down to their definitions.

Nothing here runs student code. A notebook keeps only the statements that define things (imports, defs,
classes, plain-value assignments), so the sandboxed worker can exec it without re-running experiments.
"""

from __future__ import annotations

import __future__
import ast
import re
import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import nbformat

from graders.harness.errors import SubmissionLoadError

_EXCERPT_CHARS = 200
_SILENT = "silent"  # skip reason for statements that do nothing: not worth reporting
# `%time f()`, `!ls`, and their assigned forms `files = !ls`, `a, b = %sx ls`
_MAGIC_LINE = re.compile(
    r"^(?P<indent>\s*)(?:(?P<targets>[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=\s*)?(?P<kind>[%!])"
)
_STATEMENT_REASONS = {ast.For: "loop", ast.AsyncFor: "loop", ast.While: "loop", ast.With: "with block",
                      ast.AsyncWith: "with block", ast.AugAssign: "augmented assignment", ast.Delete: "del"}
_EAGER_REASONS = {ast.Call: "calls a function", ast.Await: "uses await", ast.Yield: "uses yield",
                  ast.YieldFrom: "uses yield", ast.NamedExpr: "uses :="}


@dataclass(frozen=True)
class SkippedStatement:
    """A notebook statement the worker will not run, and why."""

    origin: str
    source: str
    reason: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class LoadProblem:
    """Something in the submission that could not be loaded; shown to the student."""

    origin: str
    message: str


@dataclass(frozen=True)
class FilteredNotebook:
    """The code kept from one notebook, what was dropped, and the names the code defines."""

    code: str
    skipped: tuple[SkippedStatement, ...]
    problems: tuple[LoadProblem, ...]
    definitions: tuple[str, ...]


def parse_python(text: str) -> ast.Module:
    """Parse source text without running it.

    Raises:
        SubmissionLoadError: the text is not valid Python; the message names the line.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences: not our business
            return ast.parse(text)
    except SyntaxError as err:
        raise SubmissionLoadError(_syntax_error_message(err)) from None
    except (RecursionError, MemoryError):
        raise SubmissionLoadError("the code is nested too deeply to parse") from None
    except ValueError as err:
        raise SubmissionLoadError(f"{type(err).__name__}: {err}") from None


def _syntax_error_message(err: SyntaxError) -> str:
    """E.g. "SyntaxError: invalid syntax (line 3: 'def f(:')"."""
    text = (err.text or "").strip()[:80]
    where = ": ".join(p for p in (f"line {err.lineno}" if err.lineno else "", repr(text) if text else "") if p)
    return f"{type(err).__name__}: {err.msg}" + (f" ({where})" if where else "")


def defined_names(body: list[ast.stmt]) -> tuple[str, ...]:
    """Public top-level names bound by def, class or assignment (also inside top-level if/try)."""
    names: list[str] = []
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            stored = (n for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
            names.extend(n.id for n in stored if isinstance(n.ctx, ast.Store))
        elif isinstance(stmt, (ast.If, ast.Try, ast.TryStar)) and not _is_main_guard(stmt):
            names.extend(defined_names(_nested_statements(stmt)))
    return tuple(n for n in dict.fromkeys(names) if not n.startswith("_"))


def bound_names(stmt: ast.stmt) -> tuple[str, ...]:
    """Every name a statement binds in the module namespace, in source order."""
    names: list[str] = []
    pending: list[ast.AST] = [stmt]
    while pending:
        node = pending.pop()
        names.extend(_names_bound_by_node(node))
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                                 ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            pending.extend(reversed(list(ast.iter_child_nodes(node))))  # their insides are another scope
    return tuple(dict.fromkeys(names))


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


class _CellFilter:
    """Accumulates the kept code of a notebook cell by cell."""

    def __init__(self, origin: str) -> None:
        self._origin = origin
        self._future_imports: list[str] = []
        self._parts: list[str] = []
        self._skipped: list[SkippedStatement] = []
        self._problems: list[LoadProblem] = []
        self._kept: list[ast.stmt] = []
        self._kept_names: set[str] = set()
        self._skipped_names: set[str] = set()  # bound by skipped statements and by no kept one so far

    def add_cell(self, number: int, source: str) -> None:
        cell_origin = f"{self._origin} cell {number}"
        if source.lstrip().startswith("%%"):
            self._skip(cell_origin, source, "cell magic", ())
            return
        try:
            text, module = self._parse_cell(source, cell_origin)
        except SubmissionLoadError as err:
            self._problems.append(LoadProblem(cell_origin, str(err)))
            return
        kept = [_statement_source(text, s) for s in module.body if self._keeps(s, text, cell_origin)]
        if kept:
            self._parts.append(f"# --- {_comment_safe(cell_origin)} ---\n" + "\n".join(kept))

    def result(self) -> FilteredNotebook:
        code = "\n".join(self._future_imports + self._parts)
        return FilteredNotebook(code, tuple(self._skipped), tuple(self._problems), defined_names(self._kept))

    def _parse_cell(self, source: str, cell_origin: str) -> tuple[str, ast.Module]:
        """Parse the cell; only if that fails, blank out magic and shell lines and retry."""
        try:  # a line starting with % can be valid Python, e.g. inside a multi-line string
            return source, parse_python(source)
        except SubmissionLoadError:
            text, magics = _strip_magics(source)
            module = parse_python(text)
        for line_number, line, reason, targets in magics:
            self._skip(f"{cell_origin}, line {line_number}", line, reason, targets)
        return text, module

    def _keeps(self, stmt: ast.stmt, text: str, cell_origin: str) -> bool:
        reason = _skip_reason(stmt, self._skipped_names)
        names = bound_names(stmt)
        if reason is None:
            self._kept.append(stmt)
            self._kept_names.update(names)
            self._skipped_names.difference_update(names)
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                self._future_imports.append(_statement_source(text, stmt))  # must come first
                return False
            return True
        if reason != _SILENT:
            self._skip(f"{cell_origin}, line {stmt.lineno}", _statement_source(text, stmt), reason, names)
            self._skipped_names.update(set(names) - self._kept_names)
        return False

    def _skip(self, origin: str, source: str, reason: str, names: tuple[str, ...]) -> None:
        self._skipped.append(SkippedStatement(origin, _excerpt(source), reason, names))


def _strip_magics(source: str) -> tuple[str, list[tuple[int, str, str, tuple[str, ...]]]]:
    """The cell with IPython magic and shell lines blanked, and (line number, line, reason, names) of each."""
    lines = source.split("\n")  # not splitlines(): it also splits at characters Python keeps in strings
    magics = []
    for index, line in enumerate(lines):
        match = _MAGIC_LINE.match(line)
        if match is None:
            continue
        targets = tuple(t.strip() for t in (match["targets"] or "").split(","))
        reason = "magic" if match["kind"] == "%" else "shell command"
        magics.append((index + 1, line, reason, tuple(t for t in targets if t)))
        lines[index] = f"{match['indent']}pass" if match["indent"] else ""  # keeps an enclosing block non-empty
    return "\n".join(lines), magics


def _skip_reason(stmt: ast.stmt, skipped_names: set[str]) -> str | None:
    """Why the worker must not run this top-level statement; None if it only defines things."""
    if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
        return _SILENT
    if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
        known = all(a.name in __future__.all_feature_names for a in stmt.names)
        return None if known else "unknown __future__ feature"  # it would stop the whole notebook compiling
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return None
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return _uses_skipped_name("definition", stmt, skipped_names)
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        return _eager_reason("assignment", stmt, skipped_names)
    if isinstance(stmt, ast.If) and _is_main_guard(stmt):
        return "__main__ block"
    if isinstance(stmt, (ast.If, ast.Try, ast.TryStar)):
        return _block_reason(stmt, skipped_names)
    if isinstance(stmt, ast.Expr):
        kinds = {type(node) for node in _eager_nodes(stmt.value)}
        return "top-level call" if ast.Call in kinds else ("top-level await" if ast.Await in kinds else "expression")
    return _STATEMENT_REASONS.get(type(stmt), type(stmt).__name__.lower())


def _block_reason(stmt: ast.If | ast.Try | ast.TryStar, skipped_names: set[str]) -> str | None:
    kind = "if" if isinstance(stmt, ast.If) else "try"
    tests = [stmt.test] if isinstance(stmt, ast.If) else [h.type for h in stmt.handlers if h.type]
    for test in tests:
        reason = _eager_reason(f"{kind} test", test, skipped_names)
        if reason is not None:
            return reason
    for inner in _nested_statements(stmt):
        reason = _skip_reason(inner, skipped_names)
        if reason not in (None, _SILENT):
            return f"{kind} block: {reason}"
    return None


def _eager_reason(what: str, node: ast.AST, skipped_names: set[str]) -> str | None:
    """Why evaluating `node` may do real work or fail: a call, await, yield, := or a skipped name."""
    for child in _eager_nodes(node):
        reason = _EAGER_REASONS.get(type(child))
        if reason is not None:
            return f"{what} {reason}"
    return _uses_skipped_name(what, node, skipped_names)


def _uses_skipped_name(what: str, node: ast.AST, skipped_names: set[str]) -> str | None:
    """Running it would raise NameError, and so stop the rest of the notebook from loading."""
    for child in _eager_nodes(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id in skipped_names:
            return f"{what} uses {child.id!r}, which only a skipped statement sets"
    return None


def _eager_nodes(node: ast.AST):
    """Yield the nodes evaluated when `node` runs: not function or lambda bodies, which run later."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
            pending.extend([*current.decorator_list, current.args, *filter(None, [current.returns])])
        elif isinstance(current, ast.Lambda):
            pending.append(current.args)
        else:
            pending.extend(ast.iter_child_nodes(current))


def _nested_statements(stmt: ast.If | ast.Try | ast.TryStar) -> list[ast.stmt]:
    if isinstance(stmt, ast.If):
        return [*stmt.body, *stmt.orelse]
    handlers = [s for h in stmt.handlers for s in h.body]
    return [*stmt.body, *handlers, *stmt.orelse, *stmt.finalbody]


def _names_bound_by_node(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return [node.id]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Import):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [a.asname or a.name for a in node.names if a.name != "*"]
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    return []


def _is_main_guard(stmt: ast.stmt) -> bool:
    """`if __name__ == "__main__":`, either way round."""
    test = stmt.test if isinstance(stmt, ast.If) else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    return has_name and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


def _statement_source(text: str, stmt: ast.stmt) -> str:
    """The statement's original text, decorators included (a def's own position starts at `def`)."""
    decorators = getattr(stmt, "decorator_list", [])
    start = min([stmt.lineno, *(d.lineno for d in decorators)])
    span = SimpleNamespace(lineno=start, col_offset=0 if decorators else stmt.col_offset,
                           end_lineno=stmt.end_lineno, end_col_offset=stmt.end_col_offset)
    return ast.get_source_segment(text, span) or ""


def _excerpt(source: str) -> str:
    source = source.strip()
    return source if len(source) <= _EXCERPT_CHARS else source[: _EXCERPT_CHARS - 3] + "..."


def _comment_safe(text: str) -> str:
    """A path may hold newlines; in a `#` comment they would turn into code."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
