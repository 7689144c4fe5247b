"""Why a name the grader asked for is missing, and where a problem is in the student's own files.

Built from what the loader knows (statements the notebook filter skipped, each unit's imports, the
map from the worker's joined notebook code back to cells) and what the worker reported while it ran
the submission's top level. A student reads "hw3.ipynb, cell 9, line 1", never a line of the
grader's filtered copy.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import textwrap
from typing import TYPE_CHECKING

from graders.core.errors import SubmissionLoadError
from graders.questions import BY_NAME, signature, signature_text
from graders.submission.notebook import cell_origin
from graders.submission.python import parse_python

if TYPE_CHECKING:
    from graders.submission.loader import (
        PreparedSubmission,
        SkippedStatement,
        SourceUnit,
    )

_LITERAL = "numbers, strings, tuples, lists, dicts"
_PIP_NAMES = {"cv2": "opencv-python", "sklearn": "scikit-learn", "PIL": "Pillow", "skimage": "scikit-image",
              "yaml": "PyYAML"}
_RUNS = "The grader runs only a notebook's imports, def, class and literal assignments, never its experiments."
_DEFINITION_TIME = ("Decorators, default values, annotations and class bodies run when a notebook defines a function "
                    "or class, so the grader skips a definition that would run something it does not know then.")
# (where in the definition, the fix, what more to say), by the end of a skipped definition's reason
_DEFINITION_FIXES = (
    ("a decorator", "remove that decorator",
     (" It runs only the decorators it knows (dataclass, property, staticmethod, classmethod, functools', "
      "register_keras_serializable, tf.function) and decorators of your notebook that only wrap their function.")),
    ("a default value", "move that call into the function body",
     " For example `def f(x=None):`, then compute x inside when it is None."),
    ("an annotation", "write the annotation without a call", ""),
    ("the class body", "move that code into a method (say `__init__`)", " A method runs only when it is called."),
    ("a base class", "derive from a class whose definition runs none of your code", ""),
    ("a class keyword", "use a library metaclass (or none) and keyword values without calls", ""),
)
_COLAB = ("`google.colab` exists only on Colab, and the grader needs no drive mount or upload: remove it, "
          "or import it inside `try:` ... `except ImportError:`.")
_PLACE_IN_ORIGIN = re.compile(r"^(?P<origin>.*), line (?P<line>\d+)$", re.DOTALL)
_NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '(?P<module>[^']+)'")
_TRACEBACK_FILE = re.compile(r'File "(?P<file>[^"\n]+)", line (?P<line>\d+)')
# What a probe's one-line cause carries (graders/inside/probes/keras_facts.py student_cause).
_CAUSE_PLACE = re.compile(r"\(in (?P<file>[^()\n]+), line (?P<line>\d+)\)")
_UNDEFINED = re.compile(r"NameError: name '(?P<name>[A-Za-z_]\w*)' is not defined")
_NO_MODULE_ANYWHERE = re.compile(r"ModuleNotFoundError: No module named '(?P<module>[^']+)'")


def missing_name_message(prepared: PreparedSubmission, name: str, *, detail: str = "", is_global: bool = False,
                         load_problems: list[dict] = ()) -> str:
    """The message of a MissingName: the name, the likely cause and how to fix it, and the contract.

    Args:
        detail: the worker's own explanation (e.g. "`grad_cam` is a dict, not a function").
        is_global: the grader read a constant rather than calling a function.
        load_problems: what failed while the worker ran the submission's top level.
    """
    if detail and detail != name:
        return f"`{name}` cannot be called: {detail}"
    contract = signature_text(name)
    hint = skipped_hint(prepared, name, is_global=is_global, load_problems=load_problems)
    if hint:
        return hint + (f"\n(The contract: {contract}.)" if contract else "")
    message = f"`{name}` is not defined in your submission"
    if contract:
        message += f" (the contract: {contract})"
    problems = [f"{p.origin}: {p.message}" for p in prepared.problems]
    problems += [f"{p['origin']}: {p['message']}" for p in locate_problems(prepared, load_problems)]
    if problems:
        message += ". These parts of the submission did not load: " + "; ".join(problems)
    return message


def skipped_hint(prepared: PreparedSubmission, name, *, is_global: bool = False, load_problems: list[dict] = ()) -> str:
    """Why `name` is undefined when the grader loads the submission, and how to fix it; "" if unknown.

    Either a statement the notebook filter skipped sets or changes it (the last such statement is
    named, with its code), or a kept import that binds it failed (a library the grader lacks, say).
    """
    if not isinstance(name, str) or not name:
        return ""
    for skipped in reversed(prepared.skipped):
        if name in skipped.names:
            return _skipped_sentence(name, skipped, is_global=is_global)
    return _failed_import_sentence(prepared, name, load_problems)


def locate(prepared: PreparedSubmission, filename: str, line: int, *, quote: bool = False) -> str:
    """Where line `line` of the worker's file `filename` is in the student's own files.

    Args:
        filename: the unit's file name as the worker knows it (e.g. "hw3_ipynb.py"), or its origin.
        quote: also quote the student's line, e.g. `hw3.ipynb, cell 5, line 1: def summarize(best=run())`.
    Returns:
        e.g. "hw3.py, line 12"; for a notebook, its cell and the line in that cell.
    """
    unit = _unit(prepared, filename)
    if unit is None:
        return f"{filename}, line {line}" if line > 0 else filename
    if line < 1:  # the whole file, e.g. it did not parse
        return unit.origin
    place = _place(unit, line)
    text = _line_text(unit, line) if quote else ""
    return f"{place}: {text}" if text else place


def locate_problems(prepared: PreparedSubmission, problems: list[dict]) -> list[dict]:
    """The worker's load problems, each with an "origin" in the student's own cells and lines.

    A problem carries the worker's file name and line ({"file" or "filename", "line", "message"}; line 0:
    the whole file), or an origin in the worker's joined code ("hw3.ipynb, line 24"). A failed import of
    a library the grader lacks says so. Idempotent: located problems come back unchanged.
    """
    located = []
    for problem in problems:
        if not isinstance(problem, dict):
            continue
        origin, message = str(problem.get("origin", "")), str(problem.get("message", ""))
        filename, line = problem.get("file", problem.get("filename")), problem.get("line")
        match = _PLACE_IN_ORIGIN.match(origin)
        if isinstance(filename, str) and isinstance(line, int) and not isinstance(line, bool):
            origin = locate(prepared, filename, line)
        elif match and _unit(prepared, match["origin"]) is not None:
            origin = locate(prepared, match["origin"], int(match["line"]))
        located.append({**problem, "origin": origin, "message": _student_message(prepared, message)})
    return located


def relocate_traceback(prepared: PreparedSubmission, text: str) -> str:
    """A worker traceback with `File "hw3_ipynb.py", line 24` read as `File "hw3.ipynb", cell 9, line 1`."""
    def replace(match: re.Match) -> str:
        unit = _unit(prepared, match["file"])
        if unit is None:
            return match[0]
        place = _place(unit, int(match["line"]))
        return f'File "{unit.origin}"{place[len(unit.origin):]}'

    return _TRACEBACK_FILE.sub(replace, text)


def explain_causes(prepared: PreparedSubmission, value, *, load_problems: list[dict] = ()):
    """A probe's result with every cause in it said as a plain call's would be (a probe returns the
    student's errors as text, `"... NameError: name 'X' is not defined (in hw3_ipynb.py, line 24)"`).

    In every string of `value` (plain data), the worker's place becomes the student's cell and line,
    and a name that is undefined because a statement was skipped or an import failed, or a library the
    grader lacks, gets the hint a direct call's message gets. Anything else is returned unchanged.
    """
    if isinstance(value, str):
        return explain_cause(prepared, value, load_problems=load_problems)
    if isinstance(value, dict):
        return {key: explain_causes(prepared, item, load_problems=load_problems) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(explain_causes(prepared, item, load_problems=load_problems) for item in value)
    return value


def explain_cause(prepared: PreparedSubmission, text: str, *, load_problems: list[dict] = ()) -> str:
    """`text` (a probe's cause) with the student's place, and the hint for an undefined name or a missing library."""
    if "(in " not in text and "Error: " not in text:
        return text  # most strings of a result (names, classes) carry no cause
    located = _CAUSE_PLACE.sub(lambda m: f"(in {locate(prepared, m['file'], int(m['line']))})", text)
    hints = []
    for match in _UNDEFINED.finditer(located):
        hint = skipped_hint(prepared, match["name"], load_problems=load_problems)
        if hint and hint not in hints:
            hints.append(hint)
    for match in _NO_MODULE_ANYWHERE.finditer(located):
        said = _student_message(prepared, match[0])
        if said != match[0] and said not in hints:
            hints.append(said)
    return "\n".join([located, *hints])


# -- skipped statements --------------------------------------------------------------------

def _skipped_sentence(name: str, skipped: SkippedStatement, *, is_global: bool) -> str:
    """First line: what happened, where, and the fix; then the student's statement; then why, or an example."""
    entry = BY_NAME.get(name)
    defines = skipped.kind == "definition" and skipped.names[:1] == (name,)
    if name in skipped.changes:
        lead = f"`{name}` is only filled in by a statement the grader skips"
    elif defines:
        lead = f"`{name}` is defined by a statement the grader skips"
    else:
        lead = f"`{name}` is only set by a statement the grader skips"
    fix, why = _advice(name, skipped, is_global=is_global or (entry is not None and not entry.function))
    return f"{lead} ({skipped.origin}: {skipped.reason}): {fix}.\n{textwrap.indent(skipped.source, '    ')}\n{why}"


def _advice(name: str, skipped: SkippedStatement, *, is_global: bool) -> tuple[str, str]:
    """(the fix, in a few words; why, with an example where one helps)."""
    if skipped.kind == "definition" and skipped.names[:1] == (name,):
        if "which only a skipped statement sets" in skipped.reason:
            return "define what it uses with a literal", "A definition that uses such a name would fail."
        where = skipped.reason[skipped.reason.rfind("(") + 1:]
        fix, more = next(((f, m) for part, f, m in _DEFINITION_FIXES if where.startswith(part)), ("", ""))
        return fix or "make its definition run nothing", _DEFINITION_TIME + more
    if name in skipped.changes or is_global:
        return f"write the final value of `{name}` as one literal ({_LITERAL})", _RUNS
    entry = BY_NAME.get(name)
    if entry is not None and entry.function:
        return "wrap it in a def", f"{_RUNS} For example:\n{textwrap.indent(_wrapper(name, skipped), '    ')}"
    return f"compute `{name}` inside the function that needs it, or write its value as a literal", _RUNS


def _wrapper(name: str, skipped: SkippedStatement) -> str:
    """`def build_model(hp):\\n    return MyHyperModel(...).build(hp)` for `build_model = MyHyperModel(...).build`."""
    header = signature(name)
    parameters = ", ".join(a.arg for a in ast.parse(f"def {header}: pass").body[0].args.args)
    try:
        [statement] = parse_python(skipped.source).body
    except (SubmissionLoadError, ValueError):  # a cut excerpt need not parse
        statement = None
    if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == name):
        value = ast.unparse(statement.value)
        if len(value) <= 60:
            callee = value if isinstance(statement.value, (ast.Name, ast.Attribute, ast.Call)) else f"({value})"
            return f"def {header}:\n    return {callee}({parameters})"
    return f"def {header}:\n    ...  # do that work here, and return the result"


# -- failed imports ------------------------------------------------------------------------

def _failed_import_sentence(prepared: PreparedSubmission, name: str, load_problems: list[dict]) -> str:
    found = _import_of(prepared, name)
    if found is None:
        return ""
    unit, statement = found
    origin = _place(unit, statement.lineno)
    code = (ast.get_source_segment(unit.code, statement) or "").split("\n")[0]
    lead = f"`{name}` comes from `{code}` ({origin}), which failed when the grader loaded your submission"
    module = _imported_module(statement, name)
    problem = next((p["message"] for p in locate_problems(prepared, load_problems) if p["origin"] == origin), "")
    if getattr(statement, "level", 0) or _is_own_module(prepared, module):
        return f"{lead}: that part of your submission did not load" + (f" ({problem})" if problem else "") + "."
    if problem:  # the worker's own word on why it failed
        return f"{lead}: {problem}"
    if module.split(".")[0] == "google":
        return f"{lead}: {_COLAB}"
    if not _installed(module):
        return f"{lead}: {_not_installed(module)}"
    return f"{lead}{_keras_note(module)}."


def _import_of(prepared: PreparedSubmission, name: str) -> tuple[SourceUnit, ast.Import | ast.ImportFrom] | None:
    """The last kept top-level import that binds `name`, and its unit."""
    found = None
    for unit in prepared.units:
        try:
            body = parse_python(unit.code).body
        except SubmissionLoadError:  # a .py that does not parse binds nothing
            continue
        for statement in _top_level(body):
            if isinstance(statement, (ast.Import, ast.ImportFrom)) and name in _imported_names(statement):
                found = unit, statement
    return found


def _imported_names(statement: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(statement, ast.Import):
        return [a.asname or a.name.split(".")[0] for a in statement.names]
    return [a.asname or a.name for a in statement.names]


def _imported_module(statement: ast.Import | ast.ImportFrom, name: str) -> str:
    """The module a failed import of `name` needed: `cv2` for `import cv2`, `google.colab` for its `drive`."""
    if isinstance(statement, ast.ImportFrom):
        return statement.module or ""
    return next(a.name for a, bound in zip(statement.names, _imported_names(statement)) if bound == name)


def _top_level(body: list[ast.stmt]):
    for statement in body:
        yield statement
        if isinstance(statement, ast.If):
            yield from _top_level([*statement.body, *statement.orelse])
        elif isinstance(statement, (ast.Try, ast.TryStar)):
            handlers = [s for h in statement.handlers for s in h.body]
            yield from _top_level([*statement.body, *handlers, *statement.orelse, *statement.finalbody])


def _not_installed(module: str) -> str:
    top = module.split(".")[0]
    pip = f" (pip name {_PIP_NAMES[top]})" if top in _PIP_NAMES else ""
    return (f"the library `{top}`{pip} is not installed where the grader runs, and the grader cannot install "
            "packages: do that work with numpy, TensorFlow/Keras or keras-tuner instead.")


def _installed(module: str) -> bool:
    """Whether the top-level package exists for the grader's Python (found, not imported)."""
    top = module.split(".")[0]
    try:
        return bool(top.isidentifier()) and importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _is_own_module(prepared: PreparedSubmission, module: str) -> bool:
    top = module.split(".")[0]
    return any(unit.filename.split("/")[0] in (f"{top}.py", top) for unit in prepared.units)


def _student_message(prepared: PreparedSubmission, message: str) -> str:
    """A worker's message, with a module the grader lacks said as such."""
    match = _NO_MODULE.match(message)
    if match is None or _is_own_module(prepared, match["module"]):
        return message
    module = match["module"]
    if module.split(".")[0] == "google":
        return f"{_COLAB} ({message})"
    if "." not in module or not _installed(module):  # the worker could not import the package itself
        return f"{_not_installed(module)} ({message})"
    return f"`{module.split('.')[0]}` is installed, but has no `{module}`{_keras_note(module)} ({message})"


def _keras_note(module: str) -> str:
    if module.split(".")[0] not in ("keras", "tensorflow"):
        return ""
    return " (the grader runs Keras 3, where some tf.keras 2 paths are gone: import from `keras`)"


# -- places --------------------------------------------------------------------------------

def _unit(prepared: PreparedSubmission, filename: str) -> SourceUnit | None:
    return next((u for u in prepared.units if filename in (u.filename, u.origin)), None)


def _place(unit: SourceUnit, line: int) -> str:
    """"hw3.ipynb, cell 9, line 1" for a notebook's joined code; "hw3.py, line 12" for a .py file."""
    if not unit.line_map or not 1 <= line <= len(unit.line_map):
        return f"{unit.origin}, line {line}"
    following = (place for place in unit.line_map[line - 1:] if place[0])  # a cell's header: its first line
    cell, cell_line = next(following, unit.line_map[line - 1])
    return cell_origin(unit.origin, cell, cell_line) if cell else f"{unit.origin}, line {line}"


def _line_text(unit: SourceUnit, line: int) -> str:
    lines = unit.code.split("\n")
    text = lines[line - 1].strip() if 1 <= line <= len(lines) else ""
    return text if len(text) <= 120 else text[:117] + "..."
