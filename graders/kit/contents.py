"""What the student kit ships: the grading machinery of its questions, and nothing that answers one.

Shipped: the packages `graders` (core, harness, sandbox, inside, submission, the questions' helpers and
grader modules), `reports` (the report and Gradescope renderers) and `hw3check` (the student's commands),
and the rubric cut to the kit's questions. Left out: every module that computes or cuts from the
reference (`graders/questions/*/trusted.py`, the starter), the TA's commands and this builder, the
class-level code (similarity, class page, gradebook), and the questions the kit does not hold. A shipped
module that imports `reference/` (or a module the kit leaves out) stops the build, naming it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from graders.core.errors import HarnessError
from graders.core.paths import PROJECT_ROOT
from graders.questions import QUESTIONS

PACKAGES = ("graders", "reports", "hw3check")
SUFFIXES = (".py", ".j2")  # code and report templates; the rubric is added, cut to the kit's questions
LEFT_OUT = (
    "graders/commands/",  # hw3grade: the TA's commands
    "graders/kit/",  # this builder, which reads the reference
    "graders/recorded/",  # written by the builder into the kit, never taken from here
    "graders/similarity/", "reports/similarity.py", "reports/index.py", "reports/gradebook.py",  # a class's
    "reports/templates/index.html.j2", "reports/templates/similarity.html.j2",
    "graders/questions/starter.py",  # the starter notebook, cut from the reference
)
RUBRIC = "graders/rubric.toml"
_SKIPPED_DIRS = frozenset({"__pycache__", "out"})
_QUESTION_HEADER = re.compile(r"^\[(?P<question>q\d+)(\.[^\]]*)?\]\s*(#.*)?$")
_HEADER = re.compile(r"^\[")


@dataclass(frozen=True)
class Refused:
    """A shipped module's import that the kit cannot have: of reference/, or of a module it leaves out."""

    module: str  # its path in the kit
    line: int
    imports: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imports}"


def kit_questions(questions=None) -> tuple[str, ...]:
    """The questions a kit holds: `questions` (in question order), or every declared question.

    Raises:
        HarnessError: a question that is not declared.
    """
    declared = [question.id for question in QUESTIONS]
    unknown = sorted(set(questions or ()) - set(declared))
    if unknown:
        raise HarnessError(f"unknown question(s) {', '.join(unknown)}: the declared ones are {', '.join(declared)}")
    return tuple(q for q in declared if not questions or q in questions)


def converted_questions() -> tuple[str, ...]:
    """The questions a kit can hold today: those with a trusted module whose own files import no reference/."""
    held = []
    for question in QUESTIONS:
        files = shipped_files((question.id,))
        own = [path for path in files if path.startswith((f"graders/questions/{question.id}/",
                                                           f"graders/{question.grader}.py"))]
        if question.trusted and not refused_imports(files, only=own):
            held.append(question.id)
    return tuple(held)


def shipped_files(questions: tuple[str, ...], root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """{path in the kit: source file} of the machinery a kit of `questions` needs (the rubric apart)."""
    left_out = [*LEFT_OUT, *_other_questions(questions)]
    files = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if (not path.is_file() or path.suffix not in SUFFIXES or _SKIPPED_DIRS & set(path.parts)
                    or relative.startswith(tuple(left_out)) or _is_trusted_module(relative)):
                continue
            files[relative] = path
    return files


def _other_questions(questions: tuple[str, ...]) -> list[str]:
    """The folders and grader modules of the declared questions that the kit does not hold."""
    return [path for question in QUESTIONS if question.id not in questions
            for path in (f"graders/questions/{question.id}/", f"graders/{question.grader}.py")]


def _is_trusted_module(relative: str) -> bool:
    """graders/questions/qN/trusted.py: the only grader modules that import reference/."""
    return bool(re.fullmatch(r"graders/questions/q\d+/trusted\.py", relative))


def refused_imports(files: dict[str, Path], *, only=None) -> list[Refused]:
    """Every import, in the shipped modules (or those of them named in `only`), of reference/ or of one of our
    modules the kit leaves out."""
    shipped = {_module_name(path) for path in files if path.endswith(".py")}
    refused: dict[tuple[str, int], Refused] = {}
    for relative, source in files.items():
        if relative.endswith(".py") and (only is None or relative in only):
            for line, name in imported_modules(source.read_text("utf-8")):
                if _refused(name, shipped):
                    refused.setdefault((relative, line), Refused(relative, line, name))  # once per statement
    return list(refused.values())


def refuse_reference_imports(files: dict[str, Path]) -> None:
    """Stop the build while a module it would ship imports reference/ (or a module it leaves out).

    Raises:
        HarnessError: naming each such module, line and import.
    """
    refused = refused_imports(files)
    if refused:
        raise HarnessError("the student kit cannot be built: a module it would ship imports what it must not hold "
                           "(reference/ answers the questions; convert the module to the trusted side, "
                           "graders/core/trusted.py, or build a kit of the converted questions with --questions):\n  "
                           + "\n  ".join(map(str, refused)))


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import in `source`: statements anywhere, and importlib/`__import__` of a constant."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{alias.name}")
                                                     for alias in node.names]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.append((node.lineno, node.args[0].value))
    return found


def _is_dynamic_import(function: ast.expr) -> bool:
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return name in ("import_module", "__import__")


def _refused(module: str, shipped: set[str]) -> bool:
    top = module.split(".")[0]
    if top == "reference":
        return True
    if top not in PACKAGES:
        return False  # a library
    # `from graders.core import paths` names the module graders.core.paths, or a name in graders.core
    return module not in shipped and module.rpartition(".")[0] not in shipped


def _module_name(relative: str) -> str:
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def rubric_for(questions: tuple[str, ...], text: str) -> str:
    """The rubric's text without the sections of the questions the kit does not hold."""
    kept, keep = [], True
    for line in text.splitlines(keepends=True):
        header = _QUESTION_HEADER.match(line)
        if header:
            keep = header["question"] in questions
        elif _HEADER.match(line):
            keep = True
        if keep:
            kept.append(line)
    return "".join(kept)
