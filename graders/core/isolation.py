"""The isolation a grading ran under, as a value: what the results JSON writes as one string.

The JSON's `isolation` is one of `bubblewrap+cgroup`, `bubblewrap`, `process+cgroup`, `process`, with
" (unconfined root)" after a plain process that the grader started as root (DESIGN.md, README
"Security"); before a worker started it says why none did. `Isolation.parse` reads that string back
and `str()` writes it: nobody else takes the string apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUBBLEWRAP, PROCESS = "bubblewrap", "process"
UNCONFINED_ROOT = "unconfined root"
_FORM = re.compile(r"(?P<level>[a-z]+)(?P<cgroup>\+cgroup)?(?: \((?P<note>.*)\))?")


@dataclass(frozen=True, eq=False)
class Isolation:
    """How the student's code was confined.

    `level` is "bubblewrap" or "process" once a worker ran; before that "not started", "none" (the
    submission did not load: `note` says so) or "unknown" (a grading that left no result).
    """

    level: str
    cgroup: bool = False
    unconfined_root: bool = False  # a plain process started by root: the submission ran as root here
    note: str = ""  # why there is no level yet, e.g. "the submission did not load"

    @property
    def confined(self) -> bool:
        """Whether the worker ran under bubblewrap (the level the report does not warn about)."""
        return self.level == BUBBLEWRAP

    def __eq__(self, other) -> bool:
        """Equal to another Isolation, or to its own string (`describe(...) == "process (unconfined root)"`)."""
        if isinstance(other, (Isolation, str)):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __str__(self) -> str:
        text = f"{self.level}+cgroup" if self.cgroup else self.level
        note = UNCONFINED_ROOT if self.unconfined_root else self.note
        return f"{text} ({note})" if note else text

    @classmethod
    def parse(cls, text: str) -> "Isolation":
        """The value of a results JSON's `isolation` string (any other text is kept as the level)."""
        match = _FORM.fullmatch(text)
        if match is None:
            return cls(level=text)
        note = match["note"] or ""
        unconfined = note == UNCONFINED_ROOT
        return cls(match["level"], cgroup=bool(match["cgroup"]), unconfined_root=unconfined,
                   note="" if unconfined else note)


NOT_STARTED = Isolation("not started")
NOT_LOADED = Isolation("none", note="the submission did not load")
UNKNOWN = Isolation("unknown")
