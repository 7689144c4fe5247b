"""Where a check's seconds go: each request to the worker and each trusted computation, by check.

The results JSON's profile holds them (`calls_by_check_s`), so `benchmarks/bench.py --only profile`
can say which call dominates a slow check without a profiler.
"""

from __future__ import annotations

import contextlib
import time

from graders.core.trusted import TrustedSide


class CallTimes:
    """Seconds and counts of the timed requests, under the check that was running when they were made."""

    def __init__(self) -> None:
        self.current: str | None = None  # the check id whose test is running (set by the plugin)
        self._by_check: dict[str, dict[str, list]] = {}
        self._inner: list[float] = []  # per open block, the seconds of the blocks timed inside it

    @contextlib.contextmanager
    def timed(self, what: str):
        """Add the seconds of the block to `what` of the current check (nothing outside a check), less the
        seconds of blocks timed inside it (a call that starts the worker: the start is its own entry)."""
        started = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            inner = self._inner.pop()
            if self._inner:
                self._inner[-1] += elapsed
            if self.current is not None:
                entry = self._by_check.setdefault(self.current, {}).setdefault(what, [0, 0.0])
                entry[0] += 1
                entry[1] += elapsed - inner

    def table(self) -> dict[str, dict[str, dict]]:
        """{check id: {request: {"calls": n, "s": seconds}}}, each check's requests slowest first."""
        return {check: {what: {"calls": count, "s": round(seconds, 3)}
                        for what, (count, seconds) in sorted(requests.items(), key=lambda item: -item[1][1])}
                for check, requests in self._by_check.items()}


class TimedSide(TrustedSide):
    """A trusted side whose every value is timed as `trusted <question>.<kind>`."""

    def __init__(self, side: TrustedSide, times: CallTimes) -> None:
        self.side = side
        self.times = times

    def value(self, question: str, kind: str, **inputs):
        with self.times.timed(f"trusted {question}.{kind}"):
            return self.side.value(question, kind, **inputs)
