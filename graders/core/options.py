"""The options of one grading, typed and frozen, and the one place that turns them into pytest arguments.

`hw3grade grade`, `hw3grade batch`, `benchmarks/` and the harness's tests all describe a grading
with a `GradingOptions` and run it through `graders.harness.run`; the pytest plugin reads the
same options back from the command line (`from_pytest`), so each is declared once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from graders.core.paths import GRADERS_DIR, PROJECT_ROOT

ISOLATIONS = ("auto", "bubblewrap", "process")
BENCHMARK_ISOLATION = "direct"  # benchmarks only: unconfined, in the grading process (graders.sandbox.direct)


@dataclass(frozen=True)
class GradingOptions:
    """Everything that decides one grading besides the submission's own content.

    `seed` None means: the public default for a self-check, a fresh secret seed for a hidden
    run (see `resolve_seed`). `questions` empty means every question; `select` is a pytest
    `-k` expression.
    """

    submission: str
    hidden: bool = False
    seed: int | None = None
    json_path: str | None = None
    report_path: str | None = None
    gradescope_path: str | None = None
    rubric: str | None = None
    mnist: str | None = None
    isolation: str = "auto"
    threads: int | None = None
    parallel: int = 1  # gradings sharing this machine at once (hw3grade batch --workers): they share its memory
    questions: tuple[str, ...] = ()
    select: str | None = None
    extra_args: tuple[str, ...] = field(default=(), compare=False)  # e.g. "-q", for a caller's display

    def with_outputs(self, folder: Path) -> "GradingOptions":
        """These options writing results.json, report.html and gradescope.json into `folder`."""
        return replace(self, json_path=str(folder / "results.json"), report_path=str(folder / "report.html"),
                       gradescope_path=str(folder / "gradescope.json"))

    def pytest_args(self) -> list[str]:
        """The `pytest` arguments of this grading: the only place they are built.

        The project's own configuration file and plugin are named explicitly, so a grading
        started from any folder gets the same markers, timeouts and options.
        """
        args = [*grader_modules(self.questions), "-c", str(PROJECT_ROOT / "pyproject.toml"),
                "--rootdir", str(PROJECT_ROOT), "-p", "graders.harness.plugin", "-p", "no:cacheprovider",
                "--submission", str(self.submission), "--isolation", self.isolation]
        flags = {"--seed": self.seed, "--json": self.json_path, "--report": self.report_path,
                 "--gradescope": self.gradescope_path, "--rubric": self.rubric, "--mnist": self.mnist,
                 "--threads": self.threads, "--parallel": self.parallel if self.parallel != 1 else None,
                 "-k": self.select}
        for flag, value in flags.items():
            if value is not None:
                args += [flag, str(value)]
        return args + (["--hidden"] if self.hidden else []) + list(self.extra_args)


def grader_modules(questions=()) -> list[str]:
    """The grader files of `questions` (all of `graders/` when empty).

    Raises:
        ValueError: for a question that has no grader module.
    """
    if not questions:
        return [str(GRADERS_DIR)]
    modules = []
    for question in questions:
        found = sorted(GRADERS_DIR.glob(f"test_{question}_*.py"))
        if not found:
            raise ValueError(f"no grader for question {question!r} in {GRADERS_DIR}")
        modules += [str(path) for path in found]
    return modules


def default_report_path(submission: str, *, partial_questions: tuple[str, ...] = ()) -> Path:
    """Where a report goes without --report: `reports/out/` under the current folder, named after the
    submission and a hash of its full path (two `hw3.ipynb` from different folders keep two reports);
    a partial run's report carries its questions in the name, so it never replaces a full one."""
    path = Path(submission).expanduser()
    digest = hashlib.sha256(str(path.resolve(strict=False)).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in (path.stem or "submission"))[:60]
    suffix = f".{'-'.join(partial_questions)}" if partial_questions else ""
    return Path.cwd() / "reports" / "out" / f"{stem}-{digest}{suffix}.html"


def thread_environment(threads: int) -> dict[str, str]:
    """Environment variables that pin the math libraries of a process to `threads` threads."""
    count = str(threads)
    return {"OMP_NUM_THREADS": count, "OPENBLAS_NUM_THREADS": count, "MKL_NUM_THREADS": count,
            "TF_NUM_INTRAOP_THREADS": count, "TF_NUM_INTEROP_THREADS": "1"}
