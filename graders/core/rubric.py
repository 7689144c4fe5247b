"""The rubric: points per check, tolerances, thresholds and budgets, from one TOML file a TA edits.

Layout of the file (see graders/rubric.toml)::

    [sandbox]                 # timeouts and limits of the worker
    [q5]
    title = "..."             # optional: overrides the title the question declares (graders/questions/)
    cases = 12                # any other key is a setting: a field of the q5 grader's Settings
    [q5.checks]
    "conv.valid" = 1          # check q5.conv.valid is worth 1 point
    "table.layer*" = 1        # a glob: every q5.table.layerN is worth 1 point
    "hidden_case" = { points = 2, hidden = true }   # runs only with --hidden

A question's settings are of two kinds (its `Settings` dataclass says which, field by field): most
are *judged* (tolerances, thresholds): a check's judge reads them, so `hw3grade rescore` applies a
change of them to stored observations. A setting declared with `observed(...)` changes what checks
observe (a training budget, a number of cases): a change of it needs those checks run again.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from graders.core.errors import HarnessError

OBSERVED = "observed"  # the metadata key of a setting that changes what checks observe
DEFAULT_RUBRIC = Path(__file__).resolve().parent.parent / "rubric.toml"
NOT_SETTINGS = ("title", "checks")  # the keys of a question's table that are not its settings
Settings = TypeVar("Settings")


def observed(*checks: str):
    """Declare a setting that changes what checks observe: a rescore refuses a change of it.

    Args:
        checks: the question's checks it changes, as local ids or globs ("train.budget", "heatmap.*");
            none: every check of the question.
    """
    return dataclasses.field(metadata={OBSERVED: tuple(checks) or ("*",)})


def observed_by(settings: type, name: str) -> tuple[str, ...]:
    """The local check ids (globs) whose observations the setting `name` of `settings` changes; () if judged."""
    for item in dataclasses.fields(settings):
        if item.name == name:
            return tuple(item.metadata.get(OBSERVED, ()))
    return ("*",)  # a key no field declares changes nothing known: treat it as changing everything


@dataclass(frozen=True)
class CheckRule:
    points: float
    hidden: bool = False


class Rubric:
    """Read access to a parsed rubric file."""

    def __init__(self, data: dict, *, path: Path, sha256: str = "") -> None:
        self.path = path
        self._data = data
        self.sha256 = sha256 or hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
        self._sections: dict = {}

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Rubric":
        """Parse the rubric TOML at `path` (default: graders/rubric.toml).

        Raises:
            HarnessError: when the file is missing or is not valid TOML.
        """
        path = Path(path) if path else DEFAULT_RUBRIC
        try:
            text = path.read_text(encoding="utf-8")
            return cls(tomllib.loads(text), path=path, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise HarnessError(f"cannot read the rubric {path}: {exc}") from None

    def rule(self, check_id: str) -> CheckRule:
        """The points and visibility of `check_id` ("q5.table.layer2").

        Raises:
            HarnessError: when no key of the question's `checks` table matches the id.
        """
        question, _, local = check_id.partition(".")
        checks = self._section(question).get("checks", {})
        key = rule_key(checks, local)
        if key is None:
            raise HarnessError(f"check {check_id!r} has no points in the rubric {self.path}")
        return _as_rule(checks[key], check_id, self.path)

    def section(self, name: str, settings: type[Settings]) -> Settings:
        """The settings of `[name]` (every key but title and checks) as the dataclass `settings`.

        Each field of `settings` must be in the table with a value of its type (an int is a
        float too; a list is a tuple); a key of the table that is no field is refused, so a
        TA's typo does not silently leave a default in place.

        Raises:
            HarnessError: a missing, unknown or ill-typed setting.
        """
        if (name, settings) not in self._sections:  # judges read it once per check: parse it once
            self._sections[name, settings] = self._parse_section(name, settings)
        return self._sections[name, settings]

    def _parse_section(self, name: str, settings: type[Settings]) -> Settings:
        table = {key: value for key, value in self._section(name).items() if key not in NOT_SETTINGS}
        hints = typing.get_type_hints(settings)
        fields = {field.name for field in dataclasses.fields(settings)}
        unknown = sorted(set(table) - fields)
        if unknown:
            raise HarnessError(f"the rubric {self.path}: [{name}] has unknown settings {unknown}")
        values = {}
        for field in sorted(fields):
            if field not in table:
                raise HarnessError(f"the rubric {self.path} has no setting [{name}] {field}")
            values[field] = _typed(table[field], hints[field], f"[{name}] {field}", self.path)
        return settings(**values)

    @property
    def data(self) -> dict:
        """The parsed file, as plain data (the results JSON keeps it, so a rescore knows what changed)."""
        return self._data

    def snapshot(self) -> dict:
        """What a result records of the rubric it was judged under."""
        return {"path": str(self.path), "sha256": self.sha256, "data": self._data}

    def questions(self) -> list[str]:
        """The graded questions: every table with a `checks` table ("q1", "q3", ...)."""
        return [name for name, table in self._data.items() if isinstance(table, dict) and "checks" in table]

    def title(self, question: str, *, default: str | None = None) -> str:
        """The question's title in this rubric (a TA's override), else `default` (its declared title), else its id."""
        return str(self._data.get(question, {}).get("title", default or question))

    def _section(self, name: str) -> dict:
        section = self._data.get(name)
        if not isinstance(section, dict):
            raise HarnessError(f"the rubric {self.path} has no [{name}] section")
        return section


def rule_key(checks: dict, local: str) -> str | None:
    """The key of a `[qN.checks]` table that gives the check `local` ("table.layer2") its points, or None.

    An exact key beats a glob; among globs, the first in sorted order.
    """
    for key in sorted(checks, key=lambda k: ("*" in k, k)):
        if key == local or fnmatch.fnmatchcase(local, key):
            return key
    return None


def _as_rule(value, check_id: str, path: Path) -> CheckRule:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return CheckRule(points=float(value))
    if isinstance(value, dict) and isinstance(value.get("points"), (int, float)):
        return CheckRule(points=float(value["points"]), hidden=bool(value.get("hidden", False)))
    raise HarnessError(f"rubric {path}: the points of {check_id!r} must be a number or {{points=, hidden=}}")


def _typed(value, hint, where: str, path: Path):
    """`value` converted to the field type `hint` (float, int, bool, str, dict, tuple, list)."""
    kind = typing.get_origin(hint) or hint
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is tuple and isinstance(value, list):
        return tuple(value)
    if isinstance(kind, type) and isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise HarnessError(f"rubric {path}: {where} must be {getattr(kind, '__name__', kind)}, got {value!r}")
