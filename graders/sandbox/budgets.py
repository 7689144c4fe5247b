"""Each contract function's total time across all its calls in one grading.

A per-call budget alone lets a function that takes just under it on every case (a second on
each of 245 q5 cases) keep a grading busy for minutes. So each function (and each global read)
also has a total: a call may run at most what is left of it, and once it is spent the function's
remaining calls fail at once, without being made, all with the same message.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from graders.sandbox import failures


@dataclass
class FunctionBudgets:
    """Seconds spent per function name, against `total_s` each (None: no total)."""

    total_s: float | None
    spent: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def remaining(self, name: str) -> float | None:
        """Seconds left to `name` (None: unlimited); 0 or less means spent."""
        if self.total_s is None:
            return None
        return self.total_s - self.spent.get(name, 0.0)

    def call_budget(self, name: str, per_call_s: float) -> tuple[float, bool]:
        """(the budget of the next call of `name`, whether it is cut short by the total)."""
        left = self.remaining(name)
        if left is None or left >= per_call_s:
            return per_call_s, False
        return max(left, 0.0), True

    @contextmanager
    def timing(self, name: str):
        """Count the seconds of the block against `name`'s total, however it ends."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.monotonic() - started
            self.calls[name] = self.calls.get(name, 0) + 1

    def spent_failure(self, request: dict) -> failures.BudgetSpent:
        """The failure of a call of `request`'s function once its total is spent."""
        return failures.BudgetSpent(failures.Request.of(request), total_s=self.total_s,
                                    calls=self.calls.get(request["name"], 0))
