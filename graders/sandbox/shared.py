"""Grader files handed to a worker for one check, and when the worker that held them must go.

A file the grader shares (q7's trained reference CNN, say) is an answer to another check: a
`predict` that loads it would pass a training check without learning. Whatever a worker was given,
it may have copied into its writable tmpfs, kept open or loaded into its memory, so "gone" means
gone with the worker: a request that is not given a file (among its arguments, or inside a
`Sandbox.shared` block) never runs in a worker that held it; the sandbox restarts the worker first,
in a fresh folder with fresh writable places.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from graders.sandbox import workdir


@dataclass
class Block:
    """An open `Sandbox.shared` block: the grader's file and its path in the current worker (None: not yet)."""

    source: str
    inside: str | None = None


@dataclass
class HeldFiles:
    """The grader files the current worker was given (their paths inside), and the open blocks."""

    held: set[str] = field(default_factory=set)
    blocks: list[Block] = field(default_factory=list)
    loose: dict[str, str] = field(default_factory=dict)  # shared by `share_file` (path inside -> the grader's file):
    #                                                      given to the requests that name them
    moved: dict[str, str] = field(default_factory=dict)  # a file's path in a restarted worker -> its path in this one

    def given(self, inside_path: str, *, source: str | None = None) -> None:
        """The worker got `inside_path`; with `source`, shared by `share_file` (given to requests naming it)."""
        self.held.add(inside_path)
        if source is not None:
            self.loose[inside_path] = source

    def must_restart_for(self, request: dict) -> bool:
        """Whether the worker holds a file that `request` is not given.

        A request is given the files of the open blocks, and, when it names one of the files shared by
        `share_file`, all of those (the older form: a Grad-CAM probe on the trained model may run where
        the randomised copy was handed over too); a request given none, such as a training check,
        runs in a worker that never held any.
        """
        if not self.held:
            return False
        allowed = {block.inside for block in self.blocks} | (set(self.loose) if set(self.loose) & _named(request)
                                                             else set())
        return bool(self.held - allowed)

    def carried(self, request: dict) -> dict[str, str]:
        """The `share_file` files `request` names ({path inside: the grader's file}): a new worker gets them too."""
        return {path: source for path, source in self.loose.items() if path in _named(request)}

    def restarted(self) -> list[Block]:
        """A new worker holds nothing. Returns the open blocks, whose files it must be given again."""
        self.held.clear()
        self.loose.clear()
        return self.blocks

    def moved_to(self, old: str | None, new: str) -> None:
        if old is not None and old != new:
            self.moved[old] = new
            for earlier, current in list(self.moved.items()):
                if current == old:
                    self.moved[earlier] = new

    def current_paths(self, request: dict) -> dict:
        """`request` with a file's path in a restarted worker replaced by its path in this one."""
        if not self.moved:
            return request
        return {key: _replaced(value, self.moved) if key in ("args", "kwargs") else value
                for key, value in request.items()}


def _named(request: dict) -> set[str]:
    return set(_strings_in(request.get("args", ()))) | set(_strings_in(request.get("kwargs", {})))


def _replaced(value, moved: dict, depth: int = 0):
    if isinstance(value, str):
        return moved.get(value, value)
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {key: _replaced(item, moved, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_replaced(item, moved, depth + 1) for item in value)
    return value


def _strings_in(value, depth: int = 0):
    if depth > 8:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings_in(item, depth + 1)


def copy_into(copies: dict, source, folder: Path) -> str:
    """Copy the grader's file `source` into a worker's `folder` once (`copies`: its copies there, by source).

    Returns:
        The copy's path. Raises FileExistsError when its name is taken (a file the worker planted).
    """
    stat = os.stat(source)
    key = (os.path.realpath(source), stat.st_size, stat.st_mtime_ns)
    if key not in copies:
        name = Path(source).name
        taken = {path.name for path in copies.values()}
        copies[key] = workdir.copy_in(source, folder, name if name not in taken else f"{len(copies)}-{name}")
    return str(copies[key])
