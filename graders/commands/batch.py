"""Grade a whole class: one sandboxed grading per submission, in parallel, resumable.

Every submission is graded by the same command a student runs (`pytest graders ...`) in its
own child process, under a per-submission time limit, so one crash or hang costs only that
submission. Results are cached by the submission's content and the grader's version: a
rerun grades only what changed, and a killed batch resumes where it stopped. A rubric change is
judged from the stored observations, or reruns only the checks whose observations it alters
(graders/commands/recheck.py); the grades are then published with what changed (publish.py).
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

from graders.commands.outfolder import (
    ClassSettings,
    class_rubric,
    marks_path,
    read_settings,
    store_result,
    write_settings,
)
from graders.commands.publish import Published, publish_class
from graders.commands.recheck import BatchPlan, merge_recheck, plan_batch
from graders.core.options import GradingOptions
from graders.core.paths import PROJECT_ROOT
from graders.core.results import GradingResult, read_json, write_json, write_text_atomically
from graders.core.rubric import DEFAULT_RUBRIC, Rubric
from graders.core.seeds import resolve_seed
from graders.harness.judgement import rejudge
from graders.harness.run import grade_in_forked_process, grade_in_subprocess, keep_private
from graders.sandbox.isolation import refuse_unconfined_root
from graders.similarity import find_similar
from graders.submission.classfolder import SUBMISSION_SUFFIXES, Entry, discover, safe_name
from graders.term.grades import StudentGrade, check_times
from graders.term.marks import read_marks
from graders.term.rules import term_rules
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
    """What a batch did: each student's grade, how many it graded in full, rechecked, judged again or found
    unchanged, and what it changed."""

    grades: list[StudentGrade]
    graded: int
    unchanged: int
    rechecked: int = 0
    rejudged: int = 0
    published: Published | None = None

    def describe(self, out) -> str:
        again = (f"{self.rechecked} rechecked, " if self.rechecked else "") + \
            (f"{self.rejudged} judged again (no student code ran), " if self.rejudged else "")
        text = (f"{self.graded} graded, {again}{self.unchanged} unchanged (skipped) of {len(self.grades)} submissions; "
                f"results in {out} (gradebook.csv, index.html)")
        return text + (f"\n{self.published.describe()}" if self.published else "")


def grade_class(*, class_dir: Path | str, out: Path | str, workers: int = 2, hidden: bool = False,
                seed: int | None = None, scheduler: str | None = None, timeout_s: float = 600.0,
                rubric: str | None = None, mnist: str | None = None, questions: list[str] | None = None,
                isolation: str = "auto", similarity: bool = True, progress=None, recheck: list[str] | None = None,
                marks: str | None = None) -> BatchSummary:
    """Grade every submission in `class_dir` into `out`, with the least work (graders.commands.recheck.plan_batch).

    Args:
        class_dir: one submission per entry (a folder, .py, .ipynb or .zip); LMS names like
            `<id>_<name>` give the student id.
        out: gets students/<id>/{results.json, report.html, gradescope.json}, gradebook.csv, index.html,
            grades.json, history/, batch.json and seed.json (the class's seed: keep it private).
        workers: parallel gradings on this machine (threads are split between them).
        seed: the seed of every grading; default: the one in out/seed.json, else the self-check default,
            or a fresh secret one with `hidden`.
        scheduler: a Dask scheduler address; the gradings then run on that cluster.
        timeout_s: the limit of one submission's whole grading.
        rubric: the rubric TOML; default: the one the class was last judged under, else graders/rubric.toml.
        questions: grade only these questions (e.g. ["q4", "q5"]); default all.
        isolation: as `pytest graders --isolation`.
        similarity: also compare the class's code question by question (similarity.csv, similarity.html and
            the class page's section; see graders/similarity).
        progress: a callable(student_id) called as each grading finishes (default: a line on stderr).
        recheck: check ids or globs run again for every student, merged into each stored result.
        marks: the marks a TA gives by hand (default OUT/marks.toml; graders/term/marks.py).

    Raises:
        HarnessError: run by root without a working bubblewrap, unless `isolation` is "process".
        ValueError: a `recheck` pattern that matches no check; a problem of the marks file (all of them).
    """
    refuse_unconfined_root(isolation)  # student code would run as root on this machine
    # Absolute: each grading runs from the project's folder, where a relative path means something else.
    out, class_dir = Path(out).absolute(), Path(class_dir).absolute()
    entries = discover(class_dir)
    rubric = class_rubric(out, rubric)
    judged_under = Rubric.load(rubric)
    rules = term_rules(judged_under.data, where=str(judged_under.path))
    marked = read_marks(marks_path(out, marks), students={e.student_id for e in entries}, manual=rules.manual)
    check_times(marked, rules)
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    grading = GradingOptions(submission="", hidden=hidden, seed=class_seed(out, seed, hidden=hidden), rubric=rubric,
                             mnist=mnist, isolation=isolation, threads=threads, questions=tuple(questions or ()),
                             parallel=max(1, workers) if not scheduler else 1)
    options = BatchOptions(grading, timeout_s)
    version = grader_version(options)
    plan = plan_batch(out, entries, version=version, rubric=judged_under, content_hash=content_hash,
                      forced=tuple(recheck or ()))
    write_settings(out, ClassSettings(str(class_dir), rubric, tuple(questions or ()), hidden, mnist, isolation))
    busy = len(plan.grade) + len(plan.rechecked)
    report = progress or ProgressLine(len(entries), already=len(entries) - busy)
    runner = _dask_runner(scheduler) if scheduler else _local_runner(workers)
    _carry_out(out, plan, options, version=version, rubric=judged_under, runner=runner, report=report)
    results = [(e.student_id, read_json(out / "students" / e.student_id / "results.json")) for e in entries]
    shown = _similarity(class_dir, out, rubric) if similarity else None
    published = publish_class(out, results, rubric=judged_under, marks=marked, reruns=plan.reruns, similarity=shown,
                              command="recheck" if recheck else "batch")
    return BatchSummary(published.grades, graded=len(plan.grade), unchanged=len(plan.unchanged),
                        rechecked=len(plan.rechecked), rejudged=len(plan.rejudge), published=published)


def recheck_class(*, out: Path | str, recheck: list[str], **options) -> BatchSummary:
    """`hw3grade batch OUT --recheck CHECK...`: the class of `out` graded with the settings it was graded with
    (OUT/batch.json), running `recheck` again for every student; `options` override the settings.

    Raises:
        FileNotFoundError: `out` holds no batch.
    """
    settings = read_settings(Path(out))
    if settings is None:
        raise FileNotFoundError(f"{out} holds no batch (no batch.json): grade the class with "
                                "hw3grade batch CLASS_DIR --out OUT first")
    recorded = {"class_dir": settings.class_dir, "questions": list(settings.questions), "hidden": settings.hidden,
                "mnist": settings.mnist, "isolation": settings.isolation}
    if not options.get("hidden"):  # a flag left out keeps the class's: a hidden class keeps its secret seed
        options.pop("hidden", None)
    return grade_class(**{**recorded, **options, "out": out, "recheck": recheck})


def _carry_out(out: Path, plan: BatchPlan, options: BatchOptions, *, version: str, rubric: Rubric, runner,
               report) -> None:
    """Grade, recheck and judge again as `plan` says; each result is stored as it comes."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".grading-") as scratch:  # beside OUT: outputs are moved
        for entry, folder in runner(plan.grade, options, Path(scratch)):
            _store(out, entry, folder, version)
            report(entry.student_id)
        for number, (checks, group) in enumerate(plan.recheck.items()):
            only = replace(options.grading, checks=tuple(sorted(checks)),
                           questions=tuple(sorted({check.partition(".")[0] for check in checks})))
            for entry, folder in runner(group, replace(options, grading=only), Path(scratch) / f"recheck-{number}"):
                _store_recheck(out, entry, folder, rubric)
                report(entry.student_id)
    for entry in plan.rejudge:
        store_result(out, entry.student_id, rejudge(read_json(out / "students" / entry.student_id / "results.json"),
                                                     rubric))


def _store_recheck(out: Path, entry: Entry, graded: Path, rubric: Rubric) -> None:
    """Merge a recheck's checks into the student's stored result; a recheck that crashed replaces it, and the
    student is graded in full by the next batch (its meta.json goes)."""
    folder = out / "students" / entry.student_id
    rechecked = read_json(graded / "results.json")
    if rechecked is None or rechecked.error:
        store_result(out, entry.student_id, rechecked or GradingResult.unloadable(
            str(entry.path), "the recheck wrote no result", seed=0, hidden=False))
        (folder / "meta.json").unlink(missing_ok=True)
        return
    store_result(out, entry.student_id, merge_recheck(read_json(folder / "results.json"), rechecked, rubric))


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
    """A hash of everything that decides what a grading observes besides the submission and the rubric."""
    grading = options.grading
    digest = hashlib.sha256(json.dumps([grading.hidden, grading.seed, grading.mnist, grading.questions,
                                        grading.isolation]).encode())
    # The rubric is not part of it: each result records the rubric it was judged under (plan_batch judges it
    # again, or reruns the checks whose observations a rubric change alters).
    files = sorted(p for folder in VERSIONED for p in (PROJECT_ROOT / folder).rglob("*") if p != DEFAULT_RUBRIC
                   and p.suffix in VERSIONED_SUFFIXES and not {"__pycache__", "out"} & set(p.parts))
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
