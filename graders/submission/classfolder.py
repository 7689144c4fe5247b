"""A class folder: one submission per entry, each with the student id its name gives (as LMS downloads name them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")


@dataclass(frozen=True)
class Entry:
    """One student's submission in the class folder."""

    student_id: str
    path: Path


def discover(class_dir: Path) -> list[Entry]:
    """The submissions in `class_dir`, each with a student id taken from its name.

    Raises:
        FileNotFoundError: when `class_dir` is not a folder.
    """
    if not class_dir.is_dir():
        raise FileNotFoundError(f"{class_dir} is not a folder of submissions")
    paths = sorted(p for p in class_dir.iterdir()
                   if not p.name.startswith((".", "__")) and (p.is_dir() or p.suffix in SUBMISSION_SUFFIXES))
    ids = [student_id(p) for p in paths]
    # Two entries of one student (a resubmission) keep their full names, so neither is lost.
    return [Entry(sid if ids.count(sid) == 1 else safe_name(p.stem if p.is_file() else p.name), p)
            for sid, p in zip(ids, paths)]


def student_id(path: Path) -> str:
    """`12345_Jane Doe_hw3.ipynb` -> `12345`; `alice.py` -> `alice` (LMS layouts put the id first)."""
    name = path.stem if path.is_file() else path.name
    return safe_name(name.split("_", 1)[0] if "_" in name else name)


def safe_name(text: str) -> str:
    """`text` as a file name: letters, digits, `.`, `_` and `-` only, at most 80 characters."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:80] or "student"
