"""Grade a whole class: one sandboxed grading per submission, in parallel, resumable.

Every submission is graded by the same command a student runs (`pytest graders ...`) in its
own child process, under a per-submission time limit, so one crash or hang costs only that
submission. Results are cached by the submission's content and the grader's version: a
rerun grades only what changed, and a killed batch resumes where it stopped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from graders.harness import DEFAULT_SEED
from graders.harness.cli import grader_modules
from graders.harness.results import write_text_atomically

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")
OUTPUT_FILES = ("results.json", "report.html", "gradescope.json")
VERSIONED = ("graders", "reference", "reports")  # a change in any of these regrades everything
VERSIONED_SUFFIXES = (".py", ".toml", ".j2", ".json")  # code, rubric, templates, recorded reference results


@dataclass(frozen=True)
class Entry:
    """One student's submission in the class folder."""

    student_id: str
    path: Path


@dataclass(frozen=True)
class BatchOptions:
    hidden: bool = False
    seed: int = DEFAULT_SEED
    rubric: str | None = None
    mnist: str | None = None
    timeout_s: float = 600.0
    threads: int = 1
    questions: tuple[str, ...] = ()  # empty: every question


def grade_class(*, class_dir: Path | str, out: Path | str, workers: int = 2, hidden: bool = False,
                seed: int = DEFAULT_SEED, scheduler: str | None = None, timeout_s: float = 600.0,
                rubric: str | None = None, mnist: str | None = None, questions: list[str] | None = None,
                progress=None) -> list[dict]:
    """Grade every submission in `class_dir` into `out`; return one gradebook row per student.

    Args:
        class_dir: one submission per entry (a folder, .py, .ipynb or .zip); LMS names like
            `<id>_<name>` give the student id.
        out: gets students/<id>/{results.json, report.html, gradescope.json}, gradebook.csv, index.html.
        workers: parallel gradings on this machine (threads are split between them).
        scheduler: a Dask scheduler address; the gradings then run on that cluster.
        timeout_s: the limit of one submission's whole grading.
        questions: grade only these questions (e.g. ["q4", "q5"]); default all.
        progress: a callable(done, total, row) for progress display (default: a line on stderr).
    """
    out = Path(out)
    entries = discover(Path(class_dir))
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    options = BatchOptions(hidden, seed, rubric, mnist, timeout_s, threads, tuple(questions or ()))
    version = grader_version(options)
    todo = [e for e in entries if not _is_current(out, e, version)]
    report = progress or ProgressLine(len(entries), already=len(entries) - len(todo))
    runner = _dask_runner(scheduler) if scheduler else _local_runner(workers)
    for entry, outputs in runner(todo, options):
        _store(out, entry, outputs, version)
        report(entry.student_id)
    rows = [gradebook_row(e.student_id, _read_results(out, e)) for e in entries]
    write_gradebook(out / "gradebook.csv", rows)
    from reports.index import write_index

    write_index(out / "index.html", [(e.student_id, _read_results(out, e)) for e in entries])
    return rows


def discover(class_dir: Path) -> list[Entry]:
    """The submissions in `class_dir`, each with a student id taken from its name.

    Raises:
        FileNotFoundError: when `class_dir` is not a folder.
    """
    if not class_dir.is_dir():
        raise FileNotFoundError(f"{class_dir} is not a folder of submissions")
    paths = sorted(p for p in class_dir.iterdir()
                   if not p.name.startswith((".", "__")) and (p.is_dir() or p.suffix in SUBMISSION_SUFFIXES))
    ids = [student_id(p) for p in paths]
    # Two entries of one student (a resubmission) keep their full names, so neither is lost.
    return [Entry(sid if ids.count(sid) == 1 else _safe(p.stem if p.is_file() else p.name), p)
            for sid, p in zip(ids, paths)]


def student_id(path: Path) -> str:
    """`12345_Jane Doe_hw3.ipynb` -> `12345`; `alice.py` -> `alice` (LMS layouts put the id first)."""
    name = path.stem if path.is_file() else path.name
    return _safe(name.split("_", 1)[0] if "_" in name else name)


def grader_version(options: BatchOptions) -> str:
    """A hash of everything that decides a grade besides the submission itself."""
    digest = hashlib.sha256(json.dumps([options.hidden, options.seed, options.mnist, options.questions]).encode())
    rubric = Path(options.rubric) if options.rubric else PROJECT_ROOT / "graders" / "rubric.toml"
    files = [rubric] + sorted(p for folder in VERSIONED for p in (PROJECT_ROOT / folder).rglob("*")
                              if p.suffix in VERSIONED_SUFFIXES and not {"__pycache__", "out"} & set(p.parts))
    for path in files:
        digest.update(str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    """A hash of a submission's bytes (all files of a folder, by relative path)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else file.name).encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def run_grading(submission: Path, out_dir: Path, options: BatchOptions, *, extra_args=()) -> dict[str, str]:
    """Grade one submission in a child `pytest graders` process; return its output files' texts.

    A grading that crashes or passes `options.timeout_s` still returns a results JSON that
    says so (every gradebook row is accounted for).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / name for name in OUTPUT_FILES}
    command = [sys.executable, "-m", "pytest", *grader_modules(list(options.questions)), "--submission", str(submission),
               "--seed", str(options.seed), "--json", str(paths["results.json"]), "--report", str(paths["report.html"]),
               "--gradescope", str(paths["gradescope.json"]), "--threads", str(options.threads),
               "-q", "-p", "no:cacheprovider", "--rootdir", str(PROJECT_ROOT)]
    command += ["--hidden"] if options.hidden else []
    command += ["--rubric", options.rubric] if options.rubric else []
    command += ["--mnist", options.mnist] if options.mnist else []
    command += list(extra_args)
    env = {**os.environ, **thread_environment(options.threads)}
    try:
        # Same process group as the batch: killing the batch stops its gradings too.
        process = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                 timeout=options.timeout_s, env=env)
        failure = None if paths["results.json"].exists() else f"grading crashed:\n{process.stdout[-2000:]}"
    except subprocess.TimeoutExpired:
        failure = f"grading took longer than {options.timeout_s:g} s and was stopped"
    if failure:
        return {"results.json": json.dumps(_failed_result(submission, failure, options), indent=2)}
    return {name: path.read_text(encoding="utf-8") for name, path in paths.items() if path.exists()}


def thread_environment(threads: int) -> dict[str, str]:
    """Pin the grading process's own math libraries, so N gradings do not oversubscribe the cores."""
    count = str(threads)
    return {"OMP_NUM_THREADS": count, "OPENBLAS_NUM_THREADS": count, "MKL_NUM_THREADS": count,
            "TF_NUM_INTRAOP_THREADS": count, "TF_NUM_INTEROP_THREADS": "1"}


def gradebook_row(student: str, result: dict | None) -> dict:
    """One CSV row: id, total, max, status, then one column per question."""
    if result is None:
        return {"id": student, "total": 0, "max": 0, "status": "missing"}
    row = {"id": student, "total": result.get("score", 0), "max": result.get("max_score", 0),
           "status": "error" if result.get("error") else "graded"}
    for question in result.get("questions", []):
        row[question["id"]] = question["score"]
    return row


def write_gradebook(path: Path, rows: list[dict]) -> None:
    """gradebook.csv, importable into an LMS: fixed columns first, then q1..q7 in order."""
    questions = sorted({key for row in rows for key in row if re.fullmatch(r"q\d+", key)}, key=lambda q: int(q[1:]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "total", "max", "status", *questions], restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomically(path, buffer.getvalue())


class ProgressLine:
    """`[12/40] 30% ETA 4m10s last: alice` on stderr (one line, rewritten)."""

    def __init__(self, total: int, *, already: int = 0) -> None:
        self.total, self.done, self.already = total, already, already
        self.started = time.monotonic()

    def __call__(self, student: str) -> None:
        self.done += 1
        graded = self.done - self.already
        remaining = (time.monotonic() - self.started) / graded * (self.total - self.done)
        eta = f"{int(remaining // 60)}m{int(remaining % 60):02d}s"
        end = "\n" if self.done == self.total else ""
        print(f"\r[{self.done}/{self.total}] {100 * self.done // self.total}% ETA {eta} last: {student}   ",
              end=end, file=sys.stderr, flush=True)


# -- runners: each yields (entry, outputs) as gradings finish ---------------------------------

def _local_runner(workers: int):
    def run(entries: list[Entry], options: BatchOptions):
        with tempfile.TemporaryDirectory(prefix="hw3batch-") as scratch, \
                ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {pool.submit(run_grading, e.path, Path(scratch) / e.student_id, options): e for e in entries}
            for future in as_completed(futures):
                yield futures[future], future.result()

    return run


def _dask_runner(address: str):
    def run(entries: list[Entry], options: BatchOptions):
        from distributed import Client, as_completed as dask_completed

        with Client(address) as client:
            futures = {client.submit(grade_bytes, e.path.name, pack(e.path), options, pure=False): e for e in entries}
            for future in dask_completed(futures):
                yield futures[future], future.result()

    return run


def pack(path: Path) -> bytes:
    """A submission as bytes for a remote worker: a file as it is, a folder as a zip."""
    if path.is_file():
        return path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
            archive.write(file, file.relative_to(path))
    return buffer.getvalue()


def grade_bytes(name: str, data: bytes, options: BatchOptions) -> dict[str, str]:
    """Grade a packed submission (runs on a Dask worker, which has hw3grader installed)."""
    with tempfile.TemporaryDirectory(prefix="hw3remote-") as scratch:
        suffix = Path(name).suffix if Path(name).suffix in SUBMISSION_SUFFIXES else ".zip"
        submission = Path(scratch) / f"{_safe(Path(name).stem) or 'submission'}{suffix}"
        submission.write_bytes(data)
        return run_grading(submission, Path(scratch) / "out", options)


# -- the output folder ------------------------------------------------------------------------

def _store(out: Path, entry: Entry, outputs: dict[str, str], version: str) -> None:
    folder = out / "students" / entry.student_id
    for name, text in outputs.items():
        write_text_atomically(folder / name, text)
    # Written last: a batch killed before this line regrades this student on the next run.
    key = {"content": content_hash(entry.path), "grader": version, "source": str(entry.path)}
    write_text_atomically(folder / "meta.json", json.dumps(key, indent=2))


def _is_current(out: Path, entry: Entry, version: str) -> bool:
    meta = out / "students" / entry.student_id / "meta.json"
    try:
        key = json.loads(meta.read_text())
    except (OSError, ValueError):
        return False
    return key.get("grader") == version and key.get("content") == content_hash(entry.path)


def _read_results(out: Path, entry: Entry) -> dict | None:
    try:
        return json.loads((out / "students" / entry.student_id / "results.json").read_text())
    except (OSError, ValueError):
        return None


def _failed_result(submission: Path, message: str, options: BatchOptions) -> dict:
    return {"submission": str(submission), "score": 0.0, "max_score": 0.0, "hidden": options.hidden,
            "seed": options.seed, "isolation": "unknown", "dataset": {}, "duration_s": 0.0, "questions": [],
            "error": message}


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:80] or "student"
