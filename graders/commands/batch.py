"""Grade a whole class: one sandboxed grading per submission, in parallel, resumable.

Every submission is graded by the same command a student runs (`pytest graders ...`) in its
own child process, under a per-submission time limit, so one crash or hang costs only that
submission. Results are cached by the submission's content and the grader's version: a
rerun grades only what changed, and a killed batch resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from graders.core.options import GradingOptions
from graders.core.paths import PROJECT_ROOT
from graders.core.results import GradingResult, read_json, write_json, write_text_atomically
from graders.core.seeds import resolve_seed
from graders.harness.run import grade_in_forked_process, grade_in_subprocess, keep_private
from graders.sandbox.isolation import refuse_unconfined_root
from graders.similarity import find_similar
from graders.submission.classfolder import SUBMISSION_SUFFIXES, Entry, discover, safe_name
from reports.gradebook import gradebook_row, write_gradebook
from reports.index import write_index
from reports.similarity import similarity_view, write_similarity

OUTPUT_FILES = ("results.json", "report.html", "gradescope.json")
VERSIONED = ("graders", "reference", "reports")  # a change in any of these regrades everything
VERSIONED_SUFFIXES = (".py", ".toml", ".j2", ".json", ".md")  # code, rubric, templates, recorded results, texts
SEED_FILE = "seed.json"  # the class's seed: a resumed batch grades every student with the same one


@dataclass(frozen=True)
class BatchOptions:
    """What every grading of the class shares: the grading options (with the class's seed, fixed before the
    first grading) and the time limit of one grading."""

    grading: GradingOptions  # its submission is set per student
    timeout_s: float = 600.0

    def for_student(self, submission: Path, out_dir: Path) -> GradingOptions:
        return replace(self.grading, submission=str(submission), extra_args=("-q",)).with_outputs(out_dir)


@dataclass
class BatchSummary:
    """What a batch did: one gradebook row per student, and how many it graded or found unchanged."""

    rows: list[dict]
    graded: int
    unchanged: int

    def describe(self, out) -> str:
        return (f"{self.graded} graded, {self.unchanged} unchanged (skipped) of {len(self.rows)} submissions; "
                f"results in {out} (gradebook.csv, index.html)")


def grade_class(*, class_dir: Path | str, out: Path | str, workers: int = 2, hidden: bool = False,
                seed: int | None = None, scheduler: str | None = None, timeout_s: float = 600.0,
                rubric: str | None = None, mnist: str | None = None, questions: list[str] | None = None,
                isolation: str = "auto", similarity: bool = True, progress=None) -> BatchSummary:
    """Grade every submission in `class_dir` into `out`.

    Args:
        class_dir: one submission per entry (a folder, .py, .ipynb or .zip); LMS names like
            `<id>_<name>` give the student id.
        out: gets students/<id>/{results.json, report.html, gradescope.json}, gradebook.csv, index.html
            and seed.json (the class's seed: keep it private).
        workers: parallel gradings on this machine (threads are split between them).
        seed: the seed of every grading; default: the one in out/seed.json, else the self-check default,
            or a fresh secret one with `hidden`.
        scheduler: a Dask scheduler address; the gradings then run on that cluster.
        timeout_s: the limit of one submission's whole grading.
        questions: grade only these questions (e.g. ["q4", "q5"]); default all.
        isolation: as `pytest graders --isolation`.
        similarity: also compare the class's code question by question (similarity.csv, similarity.html and
            the class page's section; see graders/similarity).
        progress: a callable(student_id) called as each grading finishes (default: a line on stderr).

    Raises:
        HarnessError: run by root without a working bubblewrap, unless `isolation` is "process".
    """
    refuse_unconfined_root(isolation)  # student code would run as root on this machine
    out = Path(out)
    entries = discover(Path(class_dir))
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    grading = GradingOptions(submission="", hidden=hidden, seed=class_seed(out, seed, hidden=hidden), rubric=rubric,
                             mnist=mnist, isolation=isolation, threads=threads, questions=tuple(questions or ()),
                             parallel=max(1, workers) if not scheduler else 1)
    options = BatchOptions(grading, timeout_s)
    version = grader_version(options)
    todo = [e for e in entries if not _is_current(out, e, version)]
    report = progress or ProgressLine(len(entries), already=len(entries) - len(todo))
    runner = _dask_runner(scheduler) if scheduler else _local_runner(workers)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".grading-") as scratch:  # beside OUT: outputs are moved
        for entry, folder in runner(todo, options, Path(scratch)):
            _store(out, entry, folder, version)
            report(entry.student_id)
    results = [(e.student_id, read_json(out / "students" / e.student_id / "results.json")) for e in entries]
    rows = [gradebook_row(student, result) for student, result in results]
    write_gradebook(out / "gradebook.csv", rows)
    write_index(out / "index.html", results, similarity=_similarity(class_dir, out, rubric) if similarity else None)
    return BatchSummary(rows, graded=len(todo), unchanged=len(entries) - len(todo))


def _similarity(class_dir, out: Path, rubric: str | None):
    """The class's code-similarity view (also written as similarity.csv and similarity.html)."""
    report = find_similar(class_dir=class_dir, rubric=rubric)
    write_similarity(report, out)
    return similarity_view(report)


def class_seed(out: Path, seed: int | None, *, hidden: bool) -> int:
    """The class's seed: `seed` when given, else the one a previous run of this batch recorded, else a new one.

    Raises:
        ValueError: `seed` differs from the recorded one (grading half a class with another seed).
    """
    path = out / SEED_FILE
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    if isinstance(recorded, dict) and recorded.get("hidden") == hidden and isinstance(recorded.get("seed"), int):
        if seed is not None and seed != recorded["seed"]:
            raise ValueError(f"{path} records seed {recorded['seed']} for this class; grade into a new --out "
                             "folder to use another seed")
        return recorded["seed"]
    chosen, _ = resolve_seed(seed, hidden=hidden)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps({"seed": chosen, "hidden": hidden}) + "\n")
    os.chmod(path, 0o600)  # the TA's secret: students never see a hidden run's seed
    return chosen


def grader_version(options: BatchOptions) -> str:
    """A hash of everything that decides a grade besides the submission itself."""
    grading = options.grading
    digest = hashlib.sha256(json.dumps([grading.hidden, grading.seed, grading.mnist, grading.questions,
                                        grading.isolation]).encode())
    rubric = Path(grading.rubric) if grading.rubric else PROJECT_ROOT / "graders" / "rubric.toml"
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


def run_grading(submission: Path, out_dir: Path, options: BatchOptions, *, forked: bool = False) -> None:
    """Grade one submission in its own `pytest graders` process, writing its outputs into `out_dir`.

    Args:
        forked: fork the grading from a warm server that imported the graders once (this machine's
            batch), rather than start a new interpreter (a Dask worker's).

    A grading that crashes or passes `options.timeout_s` still writes a results JSON that says so
    (every gradebook row is accounted for).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    run = grade_in_forked_process if forked else grade_in_subprocess
    graded = run(options.for_student(submission, out_dir), timeout_s=options.timeout_s)
    if graded.timed_out:
        failure = f"grading took longer than {options.timeout_s:g} s and was stopped"
    elif graded.data is None:
        failure = f"grading crashed:\n{graded.output[-2000:]}"
    else:
        return
    write_json(GradingResult.unloadable(str(submission), failure, seed=options.grading.seed,
                                       hidden=options.grading.hidden), out_dir / "results.json")


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
    def run(entries: list[Entry], options: BatchOptions, scratch: Path):
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {pool.submit(run_grading, e.path, scratch / e.student_id, options, forked=True): e
                       for e in entries}
            for future in as_completed(futures):
                future.result()
                entry = futures[future]
                yield entry, scratch / entry.student_id

    return run


def _dask_runner(address: str):
    def run(entries: list[Entry], options: BatchOptions, scratch: Path):
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(address) as client:
            futures = {client.submit(grade_bytes, e.path.name, pack(e.path), options, pure=False): e for e in entries}
            for future in dask_completed(futures):
                entry, folder = futures[future], scratch / futures[future].student_id
                for name, text in future.result().items():  # the outputs come back over the network as text
                    write_text_atomically(folder / name, text)
                yield entry, folder

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
        submission = Path(scratch) / f"{safe_name(Path(name).stem) or 'submission'}{suffix}"
        submission.write_bytes(data)
        folder = Path(scratch) / "out"
        run_grading(submission, folder, options)
        return {name: (folder / name).read_text(encoding="utf-8") for name in OUTPUT_FILES if (folder / name).exists()}


# -- the output folder ------------------------------------------------------------------------

def _store(out: Path, entry: Entry, graded: Path, version: str) -> None:
    """Move a grading's outputs from `graded` into the student's folder, then record what was graded."""
    folder = out / "students" / entry.student_id
    folder.mkdir(parents=True, exist_ok=True)
    keep_private(graded)  # the results hold the class's seed: the TA's alone, like seed.json
    for name in OUTPUT_FILES:
        if (graded / name).exists():
            os.replace(graded / name, folder / name)  # the same file system (a folder in OUT): atomic
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

