"""What the benchmark measures with: one timed grading, the batch's peak memory, a profile's rows."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from graders.core.options import GradingOptions
from graders.harness.run import grade_in_subprocess

DIRECT_SWITCH = "HW3_BENCHMARK_DIRECT"  # benchmarks/direct.py's ENABLE (not imported: it imports the harness)
PLUGINS = ("-p", "benchmarks.profile")  # the outputs' own seconds in the profile
DIRECT = ("-p", "benchmarks.direct")  # the checks run in the grading process


def grade_once(submission: Path, questions: list[str], *, isolation: str = "auto", hidden: bool = False,
               seed: int | None = None, select: str | None = None) -> tuple[float, dict]:
    """Wall seconds and results JSON of one `pytest graders` run on `submission`, as a student or TA starts it.

    `isolation="direct"` grades in the grading process itself (benchmarks/direct.py, a pytest plugin).
    """
    direct = isolation == "direct"
    options = GradingOptions(submission=str(submission), questions=tuple(questions), threads=os.cpu_count() or 1,
                             isolation="process" if direct else isolation, hidden=hidden, seed=seed, select=select,
                             extra_args=("-q", *PLUGINS, *(DIRECT if direct else ())))
    env = {DIRECT_SWITCH: "1"} if direct else {}
    started = time.perf_counter()
    graded = grade_in_subprocess(options, timeout_s=3600, env=env)
    if graded.data is None:
        raise RuntimeError(f"grading {submission} wrote no results:\n{graded.output[-3000:]}")
    return time.perf_counter() - started, graded.data


def tensorflow_import_s(repeats: int = 3) -> float:
    """U: the median wall seconds of `import tensorflow` in a fresh Python process, here and now (the unit of
    DESIGN.md's speed targets: machines and their load move it 2-3x)."""
    code = "import time; t = time.perf_counter(); import tensorflow; print(time.perf_counter() - t)"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 env=env).stdout.split()[-1]) for _ in range(repeats)]
    return statistics.median(runs)


def check_rows(result: dict, *, most: int = 3) -> list[tuple[str, float, list[tuple[str, int, float]]]]:
    """Each check's seconds, slowest first, with its slowest requests (worker calls, probes, trusted values):
    [(check id, seconds, [(request, calls, seconds), ...])]."""
    profile = result.get("profile", {})
    calls = profile.get("calls_by_check_s", {})
    rows = []
    for check, seconds in sorted(profile.get("checks_s", {}).items(), key=lambda item: -item[1]):
        requests = [(what, entry["calls"], entry["s"]) for what, entry in calls.get(check, {}).items()][:most]
        rows.append((check, seconds, requests))
    return rows


def profile_rows(result: dict) -> list[tuple[str, str]]:
    """The profile of a results JSON as (phase, seconds) rows, in the order a grading goes through them."""
    profile, worker = result.get("profile", {}), result.get("worker", {})
    rows = [("python + pytest start, up to the plugin", profile.get("start_to_configure_s")),
            ("collecting the graders", profile.get("collection_s")),
            ("reading the submission (no code runs)", profile.get("read_submission_s")),
            ("worker start: its imports (TensorFlow) and the submission's top level", worker.get("load_s"))]
    for question, seconds in profile.get("checks_by_question_s", {}).items():
        rows.append((f"{question} checks (worker start included in the first)", seconds))
    rows += [("JSON, report and Gradescope outputs", profile.get("outputs_s")),
             ("grading process imported TensorFlow", profile.get("grader_imported_tensorflow")),
             ("worker peak RSS (MB)", worker.get("peak_rss_mb")), ("whole grading (duration_s)", result["duration_s"])]
    return [(phase, "?" if value is None else str(value)) for phase, value in rows]


def machine_ram_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


class PeakMemory:
    """The peak summed resident memory of this process and all its descendants, sampled every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, sum(_rss(pid) for pid in _descendants(os.getpid())))


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, pending = [root], [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0
