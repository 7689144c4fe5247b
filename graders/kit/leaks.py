"""Does a kit hold anything that answers a question? The scan every built kit passes before it is kept.

It looks, in every file of the kit (and in every member of a zip inside it: an npz, a saved model), for:
- a module of reference/, by name or by content, and any import of `reference`;
- a line of a solution region of reference/ (`# BEGIN SOLUTION` .. `# END SOLUTION`, its comments too) or
  of any function body of reference/, and a function whose body is a reference function's body;
- an answer that does not depend on the seed (each trusted module's `ANSWERS`: q5's table and each of its
  rows, q6's counts, the multiple choice) in any encoding it could be stored in: repr and JSON text, the
  trusted side's own encoding, pickles, int and float arrays' bytes, their base64 and their hashes;
- q1's recorded search results;
and in the recorded values: another seed than the public one, a value of an `ANSWERS` kind (by kind or by
its request's key), or a value equal to an answer or a row of one.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from graders.core.paths import REFERENCE_DIR
from graders.core.seeds import DEFAULT_SEED
from graders.core.trusted import ComputedSide, decode, encode, request_key
from graders.kit.contents import imported_modules
from graders.questions import QUESTIONS

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
SOLUTION_MARK = "# SOLUTION:"  # `NAME = answer  # SOLUTION: placeholder`
# Lines of a short reference body that are everyone's idiom, not an answer: Keras' way of stopping a
# training, in the reference's own search script (a deadline) and in q1's probe (an epoch budget).
COMMON_IDIOMS = frozenset({"self.model.stop_training = True"})
MIN_LINE_CHARS = 20  # shorter lines (`else:`, `return out`) are everyone's
MIN_BODY_NODES = 12  # smaller bodies (`return x + 1`) are everyone's too
MIN_NEEDLE_BYTES = 6
NESTED_ZIPS = (".zip", ".npz", ".keras", ".whl")
RECORDING = "graders/recorded/trusted.json"
SEARCH_RESULTS = "q1_search_results.json"


@dataclass(frozen=True)
class Leak:
    """One thing of an answer found in a kit: the file (inside the kit) and what it holds."""

    file: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"


@dataclass
class Needles:
    """What the scan looks for, read from reference/ and computed by the trusted modules (the TA's side)."""

    files: dict[str, str] = field(default_factory=dict)  # sha256 of a reference file -> its name
    lines: dict[str, str] = field(default_factory=dict)  # stripped line -> where it comes from
    bodies: dict[str, str] = field(default_factory=dict)  # AST dump of a function body -> which function
    runs: dict[tuple[str, str, str], str] = field(default_factory=dict)  # 3 consecutive lines of a body
    data: dict[bytes, str] = field(default_factory=dict)  # an encoding of an answer -> which answer
    values: list[tuple[object, str]] = field(default_factory=list)  # answers and their rows, as plain data
    answer_keys: dict[str, str] = field(default_factory=dict)  # request key of an answer -> which answer
    answer_kinds: set[tuple[str, str]] = field(default_factory=set)


def find_leaks(kit: Path | str, *, needles: Needles | None = None) -> list[Leak]:
    """Every leak in the kit at `kit` (a wheel, or a folder it was unpacked into); [] for a clean kit."""
    needles = needles or reference_needles()
    files = kit_files(Path(kit))
    leaks = [leak for name, data in files.items() for leak in scan_file(name, data, needles)]
    if RECORDING in files:
        leaks += scan_recording(files[RECORDING], needles)
    return leaks


def kit_files(kit: Path) -> dict[str, bytes]:
    """{path: bytes} of every file of a wheel or folder, and of every member of a zip inside it ("a.npz!x.npy")."""
    if kit.is_dir():
        files = {path.relative_to(kit).as_posix(): path.read_bytes() for path in sorted(kit.rglob("*"))
                 if path.is_file()}
    else:
        files = _zip_members(kit.read_bytes())
    for name, data in list(files.items()):
        if name.endswith(NESTED_ZIPS):
            files.update({f"{name}!{inner}": content for inner, content in _zip_members(data).items()})
    return files


def _zip_members(data: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except zipfile.BadZipFile:
        return {}


# -- one file --------------------------------------------------------------------------------

def scan_file(name: str, data: bytes, needles: Needles) -> list[Leak]:
    """The leaks in one file of a kit."""
    leaks = []
    if name.split("/")[0] == "reference" or Path(name).name == SEARCH_RESULTS:
        leaks.append(Leak(name, "a file of reference/"))
    digest = hashlib.sha256(data).hexdigest()
    if digest in needles.files:
        leaks.append(Leak(name, f"the content of reference/{needles.files[digest]}"))
    leaks += [Leak(name, f"{what} ({len(needle)} bytes)") for needle, what in needles.data.items() if needle in data]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return leaks
    for number, line in enumerate(text.splitlines(), start=1):
        where = needles.lines.get(line.strip())
        if where:
            leaks.append(Leak(f"{name}:{number}", f"{where}: {line.strip()[:100]}"))
    significant = _significant(text.splitlines())
    for run in zip(significant, significant[1:], significant[2:]):
        if run in needles.runs:
            leaks.append(Leak(name, f"{needles.runs[run]}: {run[0][:60]} ..."))
    if name.endswith(".py"):
        leaks += _python_leaks(name, text, needles)
    return leaks


def _python_leaks(name: str, text: str, needles: Needles) -> list[Leak]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    leaks = [Leak(f"{name}:{line}", f"an import of {module}") for line, module in imported_modules(text)
             if module.split(".")[0] == "reference"]
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            where = needles.bodies.get(_body_dump(node))
            if where:
                leaks.append(Leak(f"{name}:{node.lineno}", f"{node.name}() has {where}"))
    return leaks


# -- the recording ---------------------------------------------------------------------------

def scan_recording(data: bytes, needles: Needles) -> list[Leak]:
    """The leaks in a kit's recorded values (graders/recorded/trusted.json)."""
    recording = json.loads(data.decode("utf-8"))
    leaks = []
    if recording.get("seed") != DEFAULT_SEED:
        leaks.append(Leak(RECORDING, f"values of seed {recording.get('seed')}, not the public seed {DEFAULT_SEED}"))
    for key, (question, kind) in recording.get("kinds", {}).items():
        if (question, kind) in needles.answer_kinds:
            leaks.append(Leak(RECORDING, f"a recorded {question} {kind}: an answer that does not depend on the seed"))
    for key, value in recording.get("values", {}).items():
        if key in needles.answer_keys:
            leaks.append(Leak(RECORDING, f"the value of {needles.answer_keys[key]}"))
        decoded = _plain(decode(value))
        leaks += [Leak(RECORDING, f"a recorded value equal to {what}") for answer, what in needles.values
                  if decoded == answer]
    return leaks


# -- what to look for --------------------------------------------------------------------------

def reference_needles(reference: Path = REFERENCE_DIR) -> Needles:
    """Everything the scan looks for, from reference/ and the trusted modules' `ANSWERS`."""
    needles = Needles()
    for path in sorted(reference.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            needles.files[hashlib.sha256(path.read_bytes()).hexdigest()] = path.relative_to(reference).as_posix()
    for path in sorted(reference.glob("*.py")):
        _add_reference_module(needles, path)
    _add_answers(needles)
    search = reference / SEARCH_RESULTS
    if search.is_file():
        _add_search_results(needles, json.loads(search.read_text(encoding="utf-8")))
    return needles


def _add_reference_module(needles: Needles, path: Path) -> None:
    """A module's solution regions and `NAME = answer  # SOLUTION:` lines, line by line; its function bodies
    as ASTs, as runs of three lines (a body's single lines are everyone's: `if shape is not None:`), and line
    by line where a body is one or two lines (`return dilation * (kernel - 1) + 1`)."""
    source = path.read_text(encoding="utf-8")
    name = f"reference/{path.name}"
    lines = source.splitlines()
    inside = False
    for line in lines:
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
        elif stripped == END:
            inside = False
        elif inside and len(stripped) >= MIN_LINE_CHARS:
            needles.lines[stripped] = f"a line of a solution region of {name}"
        elif SOLUTION_MARK in line:
            needles.lines[line.partition(SOLUTION_MARK)[0].strip()] = f"an answer line of {name}"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = _without_docstring(node.body)
            if not body:
                continue
            what = f"the body of {name} {node.name}()"
            if sum(1 for _ in ast.walk(ast.Module(body=body, type_ignores=[]))) >= MIN_BODY_NODES:
                needles.bodies.setdefault(_body_dump(node), what)
            significant = _significant(lines[body[0].lineno - 1:node.end_lineno])  # the docstring comes before
            if len(significant) <= 2:
                needles.lines.update({line: f"a line of {what}" for line in significant
                                      if len(line) >= MIN_LINE_CHARS and line not in COMMON_IDIOMS})
            for run in zip(significant, significant[1:], significant[2:]):
                needles.runs.setdefault(run, f"three lines of {what}")


def _significant(lines: list[str]) -> list[str]:
    """The stripped lines that say something: no blank line, no comment."""
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) and \
            isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _body_dump(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return "\n".join(ast.dump(statement) for statement in _without_docstring(node.body))


def _add_answers(needles: Needles) -> None:
    """Each trusted module's ANSWERS: computed as the TA's grader does, then every encoding of them."""
    modules = {question.id: question.trusted for question in QUESTIONS if question.trusted}
    side = ComputedSide(modules)
    for question in QUESTIONS:
        if not question.trusted:
            continue
        constants = [entry.name for entry in question.contract if not entry.function]
        for kind in sorted(side.answers(question.id)):
            what = f"the answer {question.id} {kind}"
            value = side.value(question.id, kind)
            needles.answer_kinds.add((question.id, kind))
            needles.answer_keys[request_key(question.id, kind, {})] = what
            _add_value(needles, value, what, constants)
            if isinstance(value, (list, tuple)):
                for number, row in enumerate(value, start=1):
                    if _informative(row):
                        _add_value(needles, row, f"row {number} of {what}", ())


def _add_value(needles: Needles, value, what: str, names) -> None:
    plain = _plain(value)
    if isinstance(plain, (list, dict)):  # a bare number (the multiple choice's 3) equals many a recorded count:
        needles.values.append((plain, what))  # such an answer is caught by its kind and its request's key
    texts = {repr(value), str(value), repr(plain), *_inner_forms(value)}
    for form in (plain, encode(value)):
        texts |= {_json(form, compact=compact, sort=sort) for compact in (False, True) for sort in (False, True)}
    for name in names:
        texts |= {f"{name} = {repr(value)}", f"{name} = {repr(plain)}", f'"{name}": {_json(plain)}'}
    if isinstance(plain, dict):
        texts |= {f"{key!r}: {item!r}" for key, item in plain.items()} | {f'"{key}": {_json(item)}'
                                                                          for key, item in plain.items()}
    binary = set()
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        binary |= {pickle.dumps(value, protocol=protocol), pickle.dumps(plain, protocol=protocol)}
    numbers = _numbers(plain)
    if len(numbers) >= 2:
        for dtype in ("<i8", "<i4", "<f8", "<f4", ">i8", ">i4"):
            binary.add(np.asarray(numbers, dtype=dtype).tobytes())
    encoded = {text.encode("utf-8") for text in texts if len(text) >= MIN_NEEDLE_BYTES} | binary
    for needle in list(encoded):
        encoded.add(base64.b64encode(needle))
        encoded |= {getattr(hashlib, name)(needle).hexdigest().encode("ascii") for name in ("md5", "sha1", "sha256")}
    needles.data.update({needle: f"{what} ({_kind_of(needle)})" for needle in encoded
                         if len(needle) >= MIN_NEEDLE_BYTES})


def _informative(row) -> bool:
    """Whether a row, alone, says something: a row of few digits ("None, 0": an empty layer without weights) is
    text any code holds; the whole table's needles still find it in its table."""
    return sum(character.isdigit() for character in repr(_plain(row))) >= 3


def _inner_forms(value) -> set[str]:
    """A row's cells written without its brackets, as a table's line would hold them: "(124, 124, 32), 51232"."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        first, second = value
        return {f"{first!r}, {second!r}", f"{_json(_plain(first))}, {_json(_plain(second))}"}
    return set()


def _add_search_results(needles: Needles, results: dict) -> None:
    what = "q1's recorded search results"
    best = results.get("best_hyperparameters") or {}
    texts = {_json(best), _json(best, compact=True), _json(best, sort=True), json.dumps(best, indent=2), repr(best)}
    floats = [results[key] for key in ("best_val_accuracy", "test_accuracy") if isinstance(results.get(key), float)]
    texts |= {repr(number) for number in floats}
    data = {text.encode("utf-8") for text in texts if len(text) >= MIN_NEEDLE_BYTES}
    data |= {np.float64(number).tobytes() for number in floats}
    needles.data.update({needle: what for needle in data})
    needles.values.append((_plain(best), what))


def _plain(value):
    """`value` as plain JSON-like data: tuples as lists, NumPy values as Python ones."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _numbers(value) -> list:
    if isinstance(value, dict):
        return [number for item in value.values() for number in _numbers(item)]
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _json(value, *, compact: bool = False, sort: bool = False) -> str:
    return json.dumps(value, separators=(",", ":") if compact else None, sort_keys=sort, default=str)


def _kind_of(needle: bytes) -> str:
    if re.fullmatch(rb"[0-9a-f]{32,64}", needle):
        return "as a hash"
    try:
        text = needle.decode("ascii")
    except UnicodeDecodeError:
        return "as bytes"
    return f"as {text[:60]!r}"
