"""The sandbox worker: the only process that runs student code.

It is started by `sandbox.Sandbox` as `python -I worker.py --requests FD --results FD`, from
a copy of this file and `wire.py` inside the sandbox's temporary folder (the sandbox hides
`graders/`). It loads the submission once (saying which top-level statement it is running, so
that a load timeout can name it, and importing the heavy libraries the submission's functions
import), then serves requests by name, echoing each request's id. Everything it sends back is
plain data; the grader re-checks every value it receives. Under bubblewrap it refuses to run
student code as root or with a capability.
"""

from __future__ import annotations

import __future__
import argparse
import ast
import builtins
import importlib
import json
import os
import random
import signal
import sys
import time
import traceback
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # noqa: E402
import wire  # noqa: E402  (needs the path line above: `python -I` leaves the script dir out)

# Bound now, before any student code runs: a submission that patches builtins, numpy or os
# (say `builtins.isinstance = lambda *a: True`) must not break the worker's own machinery.
from builtins import (BaseException, Exception, bool, callable, dict, float, getattr, int,  # noqa: E402,A004
                      isinstance, list, open, sorted, str, tuple, type)

_SAVED_BUILTINS = dict(builtins.__dict__)
_EXIT = os._exit
_ARRAY, _ASARRAY, _NDARRAY = np.array, np.asarray, np.ndarray
_BOOL, _INTEGER, _FLOATING = np.bool_, np.integer, np.floating
_SEED_NUMPY = np.random.seed
_QUOTE = json.encoder.encode_basestring_ascii
INTERNAL_ERROR = 70  # the exit status that tells the grader the worker itself failed
TRACEBACK_LINES = 12
MESSAGE_CHARS = 2000  # a student's exception message is cut to this (the grader cuts again: this is only economy)
PID = os.getpid()  # taken before any student code runs: the grader keeps this process and its ancestors
HARNESS = os.path.dirname(os.path.abspath(__file__))
SUBMISSION_DIR = ""
HEAVY_LIBRARIES = ("tensorflow", "keras", "keras_tuner", "sklearn", "scipy", "pandas", "matplotlib")
GUARDED = {os: ("_exit", "abort", "kill", "killpg", "fork", "forkpty", "setsid"), signal: ("pthread_kill",)}


def main() -> None:
    args = _parse_args()
    try:
        _serve_forever(args)
    except BaseException:  # noqa: BLE001 - the worker's own failure: say so, then exit distinctly
        try:
            _restore_builtins()
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            _EXIT(INTERNAL_ERROR)


def _serve_forever(args) -> None:
    config = wire.read_frame_blocking(args.requests)
    if config.get("filtered"):
        _require_filtered()
    if config.get("unprivileged"):
        _require_unprivileged()
    namespace = _new_namespace()

    def loading(filename: str, line: int) -> None:  # so a load timeout can name the statement
        wire.write_bytes(args.results, _loading_frame(filename, line))

    imports: list = []
    problems = _load_units(config, namespace, loading=loading, imports=imports)
    _restore_builtins()
    _warm_imports(imports, loading)
    public = sorted(name for name in namespace if not name.startswith("_"))
    _reply(args.results, {"ok": True, "problems": problems, "names": public, "id": config.get("id"), "pid": PID})
    while True:
        try:
            request = wire.read_frame_blocking(args.requests)
        except EOFError:
            return
        reply = _serve(request, namespace)
        reply["id"] = request.get("id")
        _reply(args.results, reply)


def _reply(fd: int, reply: dict) -> None:
    """Send `reply`; a value that cannot travel as plain data becomes a type error reply."""
    try:
        frame = wire.encode(reply)
    except wire.WireError as exc:
        frame = wire.encode({"ok": False, "kind": "type", "message": str(exc), "seconds": reply.get("seconds", 0),
                             "id": reply.get("id")})
    wire.write_bytes(fd, frame)


def _loading_frame(filename: str, line: int) -> bytes:
    # Built with C-level formatting only: the statements before it may have patched the builtins
    # that json's Python encoder looks up.
    header = '{"loading": {"filename": %s, "line": %d}}' % (_QUOTE(filename), line)
    return wire.frame_bytes(header.encode())


def _require_filtered() -> None:
    """Refuse to run student code without the sandbox's seccomp filter (a misconfigured sandbox): fail closed."""
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    if fields.get("Seccomp", "0").strip() != "2":
        raise RuntimeError("the worker runs without its seccomp filter; refusing")


def _require_unprivileged() -> None:
    """Refuse to run student code as root or with a capability (a misconfigured sandbox): fail closed."""
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    effective = int(fields.get("CapEff", "1").strip(), 16)
    if os.getuid() == 0 or os.geteuid() == 0 or effective != 0:
        raise RuntimeError(f"the worker runs as uid {os.getuid()} with capabilities {effective:#x}; refusing")


def _parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--results", type=int, required=True)
    return parser.parse_args()


def _new_namespace() -> dict:
    module = types.ModuleType("submission")
    sys.modules["submission"] = module
    return module.__dict__


def _load_units(config: dict, namespace: dict, *, loading=None, imports: list | None = None) -> list[dict]:
    """Exec every unit of the submission into the one namespace; collect what failed.

    Args:
        loading: called with (the unit's file name, line) before each top-level statement runs.
        imports: gets (file name, line, module) of every import anywhere in the units.

    Returns:
        One {"filename", "line", "message"} per statement that failed ({"origin", "message"} per file).
    """
    global SUBMISSION_DIR
    submission_dir = SUBMISSION_DIR = config["submission_dir"]
    # Appended, not prepended: a student's numpy.py must not shadow the real numpy.
    sys.path.append(submission_dir)
    if not config.get("in_process"):  # in_process: the benchmark's raw-compute baseline (benchmarks/direct.py)
        os.chdir(config["scratch_dir"])
        _install_guards()
    _seed(config["seed"])
    problems = []
    for filename, origin in config["units"]:
        path = os.path.join(submission_dir, filename)
        try:
            with open(path, encoding="utf-8") as handle:
                tree = ast.parse(handle.read(), path)
        except BaseException as exc:  # noqa: BLE001 - the loader parsed it already; be safe
            problems.append({"origin": origin, "message": _describe(exc)})
            continue
        if imports is not None:
            imports += _imports_of(tree, filename)
        problems += _exec_statements(tree, path, filename, namespace, loading)
    return problems


def _warm_imports(imports: list, loading=None) -> None:
    """Import now the heavy libraries the submission imports inside its functions.

    A call's budget is for its work, not for a first `import tensorflow` (seconds, a minute on a
    busy machine) inside it; loading has its own, longer budget. Failures are left for the call.
    """
    for filename, line, module in imports:
        if module.split(".")[0] in HEAVY_LIBRARIES and module not in sys.modules:
            if loading is not None:
                loading(filename, line)
            try:
                importlib.import_module(module)
            except BaseException:  # noqa: BLE001 - the call that needs it reports it
                pass
            _restore_builtins()


def _imports_of(tree: ast.Module, filename: str) -> list[tuple[str, int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(filename, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((filename, node.lineno, node.module))
    return found


def _exec_statements(tree: ast.Module, path: str, filename: str, namespace: dict, loading) -> list[dict]:
    """Run a unit one top-level statement at a time, so one failing import or line
    (say `from google.colab import drive`) does not lose every definition after it."""
    problems, flags = [], 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            flags |= _future_flags(statement)
            continue
        if loading is not None:
            loading(filename, statement.lineno)
        try:
            code = compile(ast.Module(body=[statement], type_ignores=[]), path, "exec", flags=flags, dont_inherit=True)
            exec(code, namespace)  # noqa: S102 - this is the sandbox; running it is the point
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
            problems.append({"filename": filename, "line": statement.lineno, "message": _describe(exc)})
    return problems


def _future_flags(statement: ast.ImportFrom) -> int:
    flags = 0
    for alias in statement.names:
        feature = getattr(__future__, alias.name, None)
        flags |= getattr(feature, "compiler_flag", 0)
    return flags


def _restore_builtins() -> None:
    """Undo what student code did to the builtins, before the worker's own code runs again."""
    current = builtins.__dict__
    for name in [name for name in current if name not in _SAVED_BUILTINS]:
        del current[name]
    current.update(_SAVED_BUILTINS)


def _install_guards() -> None:
    """Make the calls that would end or escape the worker raise instead.

    Not a security boundary (the process and the sandbox around it are): it lets a submission
    that calls os._exit() at import, say, still have its other functions graded.
    """
    for module, names in GUARDED.items():
        for name in names:
            if hasattr(module, name):
                setattr(module, name, _refusal(f"{module.__name__}.{name}"))


def _refusal(name: str):
    def refuse(*args, **kwargs):
        raise PermissionError(f"{name}() is not allowed in the grader's sandbox")

    return refuse


def _serve(request: dict, namespace: dict) -> dict:
    _seed(request.get("seed", 0))
    started = time.perf_counter()
    try:
        value = _run(request, namespace)
        reply = {"ok": True, "value": _plain(value)}
    except _Missing as exc:
        reply = {"ok": False, "kind": "missing", "name": exc.name, "message": exc.detail}
    except wire.WireError as exc:
        reply = {"ok": False, "kind": "type", "message": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything
        _restore_builtins()
        reply = _exception_reply(exc)
    _restore_builtins()
    reply["seconds"] = time.perf_counter() - started
    return reply


class _Missing(Exception):
    """A contract name the submission does not define (or not as a function)."""

    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(detail or name)
        self.name, self.detail = name, detail


def _run(request: dict, namespace: dict):
    op = request["op"]
    if op == "probe":
        # The probe gets the student's functions it needs, looked up here: a missing one is
        # reported like a missing name of a direct call, and probes never read the namespace.
        functions = {name: _function(namespace, name) for name in request.get("needs", [])}
        module = importlib.import_module(f"probes.{request['module']}")
        return getattr(module, request["name"])(**functions, **request["kwargs"])
    if op == "get":
        if request["name"] not in namespace:
            raise _Missing(request["name"])
        return namespace[request["name"]]
    return _function(namespace, request["name"])(*request["args"], **request["kwargs"])


def _function(namespace: dict, name: str):
    if name not in namespace:
        raise _Missing(name)
    target = namespace[name]
    if not callable(target):
        raise _Missing(name, f"`{name}` is a {type(target).__name__}, not a function")
    return target


def _exception_reply(exc: BaseException) -> dict:
    # Only the student's frames: the worker's own are noise to a student.
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if not frame.filename.startswith(HARNESS)]
    for frame in frames:
        if frame.filename.startswith(SUBMISSION_DIR + os.sep):
            frame.filename = os.path.relpath(frame.filename, SUBMISSION_DIR)
    lines = traceback.format_list(frames) + [_cut(f"{type(exc).__name__}: {_text(exc)}") + "\n"]
    missing = getattr(exc, "name", None) if isinstance(exc, NameError) else None
    return {
        "ok": False,
        "kind": "exception",
        "error_type": _cut(type(exc).__name__),
        "message": _describe(exc),
        "missing_name": _cut(missing) if isinstance(missing, str) else None,
        "traceback": _cut("Traceback (most recent call last):\n" + "".join(_cut(line) for line in lines[-TRACEBACK_LINES:]),
                          4 * MESSAGE_CHARS),
    }


def _cut(text: str, limit: int = MESSAGE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit * 3 // 4]}\n[... {len(text) - limit:,} characters cut ...]\n{text[-(limit // 4):]}"


def _text(exc: BaseException) -> str:
    """str(exc), bounded, and never a failure of its own (a __str__ that raises or returns a non-str)."""
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - the student's __str__
        return "<the exception's message could not be read>"
    return _cut(text) if isinstance(text, str) else ""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        try:
            code = repr(exc.code)
        except BaseException:  # noqa: BLE001 - an int too long to print, a __repr__ that raises
            code = "..."
        return _cut(f"SystemExit({code}): the code called sys.exit() or exit()")
    if isinstance(exc, SyntaxError):
        return _cut(f"SyntaxError: {exc.msg} (line {exc.lineno}: {(exc.text or '').strip()!r})")
    text = _text(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _plain(value, depth: int = 0):
    """Turn what student code returned into plain data that `wire` can encode."""
    if depth > wire.MAX_DEPTH:
        raise wire.WireError(f"the result is nested deeper than {wire.MAX_DEPTH} levels")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (bool, _BOOL)):
        return bool(value)
    if isinstance(value, (int, _INTEGER)):
        return int(value)
    if isinstance(value, (float, _FLOATING)):
        return float(value)
    if isinstance(value, _NDARRAY):
        return _ARRAY(value, copy=True, subok=False)
    if isinstance(value, (list, tuple)):
        items = [_plain(item, depth + 1) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {str(key): _plain(item, depth + 1) for key, item in value.items()}
    if callable(getattr(value, "numpy", None)):  # TensorFlow tensors and variables
        return _plain(_ASARRAY(value.numpy()), depth + 1)
    raise wire.WireError(f"returned a {type(value).__module__}.{type(value).__name__}, not plain data")


def _seed(seed: int) -> None:
    random.seed(seed)
    _SEED_NUMPY(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
    elif "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


if __name__ == "__main__":
    main()
