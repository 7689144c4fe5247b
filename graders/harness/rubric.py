"""The rubric: points per check, tolerances, thresholds and budgets, from one TOML file a TA edits.

Layout of the file (see graders/rubric.toml)::

    [sandbox]                 # timeouts and limits of the worker
    [q5]
    title = "..."             # shown in reports
    cases = 12                # any other key is a setting the q5 grader reads
    [q5.checks]
    "conv.valid" = 1          # check q5.conv.valid is worth 1 point
    "table.layer*" = 1        # a glob: every q5.table.layerN is worth 1 point
    "hidden_case" = { points = 2, hidden = true }   # runs only with --hidden
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

from graders.harness.errors import HarnessError

DEFAULT_RUBRIC = Path(__file__).resolve().parent.parent / "rubric.toml"


@dataclass(frozen=True)
class CheckRule:
    points: float
    hidden: bool = False


class Rubric:
    """Read access to a parsed rubric file."""

    def __init__(self, data: dict, *, path: Path) -> None:
        self.path = path
        self._data = data

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Rubric":
        """Parse the rubric TOML at `path` (default: graders/rubric.toml).

        Raises:
            HarnessError: when the file is missing or is not valid TOML.
        """
        path = Path(path) if path else DEFAULT_RUBRIC
        try:
            return cls(tomllib.loads(path.read_text(encoding="utf-8")), path=path)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise HarnessError(f"cannot read the rubric {path}: {exc}") from None

    def rule(self, check_id: str) -> CheckRule:
        """The points and visibility of `check_id` ("q5.table.layer2").

        Raises:
            HarnessError: when no key of the question's `checks` table matches the id.
        """
        question, _, local = check_id.partition(".")
        checks = self._section(question).get("checks", {})
        for key in sorted(checks, key=lambda k: ("*" in k, k)):  # exact keys beat globs
            if key == local or fnmatch.fnmatchcase(local, key):
                return _as_rule(checks[key], check_id, self.path)
        raise HarnessError(f"check {check_id!r} has no points in the rubric {self.path}")

    def setting(self, question: str, key: str):
        """A tolerance, threshold or budget of `question`, e.g. setting("q6", "atol").

        Raises:
            HarnessError: when the rubric does not define it.
        """
        section = self._section(question)
        if key not in section:
            raise HarnessError(f"the rubric {self.path} has no setting [{question}] {key}")
        return section[key]

    def title(self, question: str) -> str:
        return str(self._data.get(question, {}).get("title", question))

    def _section(self, name: str) -> dict:
        section = self._data.get(name)
        if not isinstance(section, dict):
            raise HarnessError(f"the rubric {self.path} has no [{name}] section")
        return section


def _as_rule(value, check_id: str, path: Path) -> CheckRule:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return CheckRule(points=float(value))
    if isinstance(value, dict) and isinstance(value.get("points"), (int, float)):
        return CheckRule(points=float(value["points"]), hidden=bool(value.get("hidden", False)))
    raise HarnessError(f"rubric {path}: the points of {check_id!r} must be a number or {{points=, hidden=}}")
