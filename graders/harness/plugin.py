"""The pytest plugin: each grader test is one rubric check; their outcomes become the results JSON.

A grader test declares its check with ``@pytest.mark.check("q5.table.layer{row}")`` (fields
are filled from the test's parameters; ``title=`` names it for people) and takes the `student`
fixture to call into the sandbox. The rubric gives each check its points. The plugin registers
its own options, ini keys and marker, and resolves them once (as pytest-timeout does), so
`pytest graders` behaves the same from any folder. At the end it writes the JSON, the HTML
report and the Gradescope file, and sets the exit code (README, "Exit codes").
"""

from __future__ import annotations

import time
import zlib

import numpy as np
import pytest

from graders.core.errors import HarnessError, NotLoaded
from graders.core.options import GradingOptions, add_to_pytest, from_pytest
from graders.core.results import ERROR, FAILED, SKIPPED
from graders.core.rubric import Rubric
from graders.core.seeds import resolve_seed
from graders.harness import checks, outputs, warm
from graders.harness.checks import CHECK_KEY, CheckContext
from graders.harness.session import SESSION_KEY, GradingSession

CHECK_MARKER = ("check(id, title=None): the rubric check this grader test is; the id's {fields} are filled "
                "from the test's parameters, the title names it in reports")


def pytest_addoption(parser):
    add_to_pytest(parser)  # every option and ini key, from the one table (graders/core/options.py)


def options_from_pytest(config) -> GradingOptions:
    """The grading's options from the command line, then the ini file, then the defaults."""
    def ini(name):
        try:
            return config.getini(name) or None
        except ValueError:  # the plugin was not registered before the ini was parsed
            return None

    return from_pytest(lambda name: config.getoption(name, default=None), ini)


def pytest_configure(config):
    config.addinivalue_line("markers", CHECK_MARKER)
    options = options_from_pytest(config)
    seed, source = resolve_seed(options.seed, hidden=options.hidden)
    grading = GradingSession(options=options, seed=seed, seed_source=source)
    try:
        grading.refuse_outside_the_kit()  # a kit's recorded values hold for its public seed only
    except HarnessError as refused:
        raise pytest.UsageError(str(refused)) from None
    grading.mark("start_to_configure_s")  # the Python and pytest start, up to this plugin
    config.stash[SESSION_KEY] = grading


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    found = [item for item in items if item.get_closest_marker("check")]
    if not found:
        return
    grading = config.stash[SESSION_KEY]
    if not grading.options.submission:
        raise pytest.UsageError("--submission is required to grade, e.g. pytest graders --submission my_hw3.ipynb")
    try:
        grading.rubric = Rubric.load(grading.options.rubric)
        contexts = [checks.context_of(item, grading.rubric) for item in found]
    except HarnessError as exc:
        raise pytest.UsageError(f"grader configuration error: {exc}") from None
    for item, context in zip(found, contexts):
        item.stash[CHECK_KEY] = context
        if context.hidden and not grading.options.hidden:
            item.add_marker(pytest.mark.skip(reason="hidden check: it runs in the TA's grading only"))
    if grading.options.checks:  # --checks (a recheck): only the checks named, by id or glob
        chosen = grading.options.checks
        left_out = [item for item, context in zip(found, contexts) if not checks.chosen(context.id, chosen)]
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]
        contexts = [context for item, context in zip(found, contexts) if item not in left_out]
    grading.collected = [context.id for context in contexts]


def pytest_deselected(items):
    for item in items:
        if item.get_closest_marker("check"):
            item.config.stash[SESSION_KEY].deselected += 1


def pytest_collection_finish(session):
    grading = session.config.stash.get(SESSION_KEY, None)
    if grading is None or not grading.collected:
        return
    grading.prepare()  # reads the submission (never runs it): an unloadable one is known before any check
    if grading.load_error:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"HW3: {grading.load_error}", red=True, bold=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    grading = item.config.stash[SESSION_KEY]
    context = item.stash.get(CHECK_KEY, None)
    grading.call_times.current = context.id if context is not None else None  # its requests are timed under it
    if CHECK_KEY in item.stash and grading.load_error and not item.get_closest_marker("skip"):
        raise NotLoaded("not graded: the submission could not be loaded (see the top of the report)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    context = item.stash.get(CHECK_KEY, None)
    if context is None:
        return report
    grading = item.config.stash[SESSION_KEY]
    context.duration_s += report.duration
    result = checks.result_of(context, report, call, grading.judge)
    if result is not None:
        grading.results[context.id] = result
        report.hw3_category = result.category
        if result.status in (FAILED, ERROR):
            report.outcome, report.longrepr = "failed", f"[{context.id}] {result.message}"
        elif result.status == SKIPPED and not report.skipped:  # a kit's check of a seed-independent answer
            report.outcome, report.longrepr = "skipped", (str(item.path), item.location[1], result.message)
    return report


def pytest_report_teststatus(report, config):
    """Failed checks read as failed (never "ERROR at setup"); unanswered ones have their own word."""
    return checks.TEST_STATUS.get(getattr(report, "hw3_category", None))


# -- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def grading(request) -> GradingSession:
    return request.config.stash[SESSION_KEY]


@pytest.fixture(scope="session")
def rubric(grading):
    """The parsed rubric; a grader reads its own section with `rubric.section(question, Settings)`."""
    return grading.rubric


@pytest.fixture(scope="session")
def seed(grading) -> int:
    return grading.seed


@pytest.fixture
def check(request) -> CheckContext:
    """This test's check: its id, points, and a `details` dict that the report shows."""
    return request.node.stash[CHECK_KEY]


@pytest.fixture
def rng(seed, check) -> np.random.Generator:
    """A generator seeded by the run's seed and the check id: same inputs on every rerun."""
    return check_rng(seed, check.id)


def check_rng(seed: int, check_id: str) -> np.random.Generator:
    """The generator a check draws its cases from (the `rng` fixture; sweeps in tests use it too)."""
    return np.random.default_rng([seed, zlib.crc32(check_id.encode())])


@pytest.fixture(scope="session")
def student(grading):
    """The submission, loaded into its sandbox worker (started on the first call; kept with --keep-worker)."""
    handle = warm.open_student(grading)
    grading.isolation = handle.isolation_description
    yield handle
    grading.close_student(handle)


@pytest.fixture(scope="session")
def trusted(grading):
    """The reference's values on the grader's inputs (graders.core.trusted): graders never import reference/."""
    return grading.trusted_side()


@pytest.fixture(scope="session")
def mnist(grading):
    """The MNIST split of this run (see graders.core.mnist)."""
    return grading.mnist()


def pytest_sessionfinish(session, exitstatus):
    grading = session.config.stash.get(SESSION_KEY, None)
    if grading is None or not grading.results:
        return
    grading.finish_recording()
    outputs.write_outputs(grading, duration_s=time.perf_counter() - grading.started)
    session.exitstatus = outputs.exit_code(grading, int(exitstatus))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    grading = config.stash.get(SESSION_KEY, None)
    if grading is None or not grading.results:
        return
    terminalreporter.section("HW3 score")
    for line in outputs.summary_lines(grading):
        alarm = line.startswith(("WARNING", "NOT GRADED"))
        terminalreporter.write_line(line, red=alarm, bold=alarm)
