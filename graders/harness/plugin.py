"""The pytest plugin: each grader test is one rubric check; their outcomes become the results JSON.

A grader test declares its check with ``@pytest.mark.check("q5.table.layer{row}")`` (fields
are filled from the test's parameters) and takes the `student` fixture to call into the
sandbox. The rubric gives each check its points. At the end of the session the plugin writes
the JSON, the HTML report and the Gradescope file.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest

from graders.harness.errors import HarnessError, SubmissionError
from graders.harness.results import CheckResult

CHECK_KEY = pytest.StashKey["CheckContext"]()
SESSION_KEY = pytest.StashKey["GradingSession"]()


@dataclass
class CheckContext:
    """What a grader test knows about its own check; `details` reaches the report."""

    id: str
    points: float
    hidden: bool
    details: dict = field(default_factory=dict)
    duration_s: float = 0.0  # setup and call of the test, worker start included for the first check


@dataclass
class GradingSession:
    """Everything recorded during one grading run."""

    options: dict
    started: float = field(default_factory=time.perf_counter)
    results: dict[str, CheckResult] = field(default_factory=dict)
    isolation: str = "not started"
    load: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    dataset: dict = field(default_factory=dict)
    worker: dict = field(default_factory=dict)
    rubric: object = None


def pytest_configure(config):
    config.stash[SESSION_KEY] = GradingSession(options=_options(config))


def _options(config) -> dict:
    names = ("submission", "hidden", "seed", "results_json", "report", "gradescope", "rubric", "mnist", "isolation",
             "threads")
    return {name: config.getoption(name, default=None) for name in names}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    checks = [item for item in items if item.get_closest_marker("check")]
    if not checks:
        return
    grading = config.stash[SESSION_KEY]
    if not grading.options["submission"]:
        raise pytest.UsageError(
            "--submission is required to grade, e.g. pytest graders --submission my_hw3.ipynb"
        )
    from graders.harness.rubric import Rubric

    try:
        grading.rubric = Rubric.load(grading.options["rubric"])
        contexts = [_check_context(item, grading.rubric) for item in checks]
    except HarnessError as exc:
        raise pytest.UsageError(f"grader configuration error: {exc}") from None
    for item, context in zip(checks, contexts):
        item.stash[CHECK_KEY] = context
        if context.hidden and not grading.options["hidden"]:
            item.add_marker(pytest.mark.skip(reason="hidden check: it runs in the TA's grading only"))


def _check_context(item, rubric) -> CheckContext:
    template = item.get_closest_marker("check").args[0]
    params = getattr(getattr(item, "callspec", None), "params", {})
    try:
        check_id = template.format(**params)
    except (KeyError, IndexError) as exc:
        raise HarnessError(f"{item.nodeid}: check id {template!r} needs parameter {exc}") from None
    rule = rubric.rule(check_id)
    return CheckContext(id=check_id, points=rule.points, hidden=rule.hidden)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    context = item.stash.get(CHECK_KEY, None)
    if context is None:
        return report
    grading = item.config.stash[SESSION_KEY]
    context.duration_s += report.duration
    result = _check_result(context, report, call)
    if result is not None:
        grading.results[context.id] = result
        if result.status == "failed" and call.excinfo is not None:
            report.longrepr = f"[{context.id}] {result.message}"
    return report


def _check_result(context: CheckContext, report, call) -> CheckResult | None:
    def make(status: str, message: str) -> CheckResult:
        score = context.points if status == "passed" else 0.0
        return CheckResult(context.id, status, score, context.points, message, context.hidden, context.details,
                           round(context.duration_s, 3))

    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return make("skipped", reason.removeprefix("Skipped: "))
    if report.when == "call" and report.passed:
        return make("passed", "")
    if report.failed and call.excinfo is not None:
        error = call.excinfo.value
        if isinstance(error, (SubmissionError, AssertionError)):
            # A rewritten `assert x, msg` appends pytest's restatement of x: the student needs msg only.
            return make("failed", str(error).split("\nassert ", 1)[0])
        return make("error", f"grader error ({type(error).__name__}: {error}); this is a bug in the grader, "
                             "not in your submission: please report it")
    return None


# -- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def grading(request) -> GradingSession:
    return request.config.stash[SESSION_KEY]


@pytest.fixture(scope="session")
def rubric(grading):
    """The parsed rubric (points, tolerances, thresholds, budgets)."""
    return grading.rubric


@pytest.fixture(scope="session")
def seed(grading) -> int:
    return int(grading.options["seed"])


@pytest.fixture
def check(request) -> CheckContext:
    """This test's check: its id, points, and a `details` dict that the report shows."""
    return request.node.stash[CHECK_KEY]


@pytest.fixture
def rng(seed, check) -> np.random.Generator:
    """A generator seeded by the run's seed and the check id: same inputs on every rerun."""
    return np.random.default_rng([seed, zlib.crc32(check.id.encode())])


@pytest.fixture(scope="session")
def student(grading, rubric, seed):
    """The submission, loaded into its sandbox worker (started on the first call)."""
    from graders.harness.session import open_student

    handle = open_student(grading, rubric=rubric, seed=seed)
    yield handle
    handle.finish(grading)


@pytest.fixture(scope="session")
def mnist(grading, seed):
    """The MNIST split of this run (see graders.harness.mnist)."""
    from graders.harness.mnist import load_mnist

    split = load_mnist(seed=seed, source=grading.options["mnist"])
    grading.dataset = split.describe()
    return split


def pytest_sessionfinish(session, exitstatus):
    grading = session.config.stash.get(SESSION_KEY, None)
    if grading is None or not grading.results:
        return
    from graders.harness.session import write_outputs

    write_outputs(grading, duration_s=time.perf_counter() - grading.started)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    grading = config.stash.get(SESSION_KEY, None)
    if grading is None or not grading.results:
        return
    from graders.harness.session import summary_lines

    terminalreporter.section("HW3 score")
    for line in summary_lines(grading):
        terminalreporter.write_line(line)
