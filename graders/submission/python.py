"""Reading Python source without running it: parse it, and name what its top level defines."""

from __future__ import annotations

import ast
import warnings

from graders.core.errors import SubmissionLoadError

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


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
        if isinstance(stmt, DEFINITIONS):
            names.append(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            stored = (n for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
            names.extend(n.id for n in stored if isinstance(n.ctx, ast.Store))
        elif isinstance(stmt, (ast.If, ast.Try, ast.TryStar)) and not is_main_guard(stmt):
            names.extend(defined_names(nested_statements(stmt)))
    return tuple(n for n in dict.fromkeys(names) if not n.startswith("_"))


def nested_statements(stmt: ast.If | ast.Try | ast.TryStar) -> list[ast.stmt]:
    if isinstance(stmt, ast.If):
        return [*stmt.body, *stmt.orelse]
    handlers = [s for h in stmt.handlers for s in h.body]
    return [*stmt.body, *handlers, *stmt.orelse, *stmt.finalbody]


def is_main_guard(stmt: ast.stmt) -> bool:
    """`if __name__ == "__main__":`, either way round."""
    test = stmt.test if isinstance(stmt, ast.If) else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    return has_name and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
