"""Grader files handed to a worker for one check, and when the worker that held them must go.

A file the grader shares (q7's trained reference CNN, say) is an answer to another check: a
`predict` that loads it would pass a training check without learning. Whatever a worker was given,
it may have copied into its writable tmpfs, kept open or loaded into its memory, so "gone" means
gone with the worker: a request that is not given a file (among its arguments, or inside a
`Sandbox.shared` block) never runs in a worker that held it; the sandbox restarts the worker first,
in a fresh folder with fresh writable places.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Block:
    """An open `Sandbox.shared` block: the grader's file and its path in the current worker (None: not yet)."""

    source: str
    inside: str | None = None
    earlier: set[str] = field(default_factory=set)  # its paths in workers that were restarted during the block


@dataclass
class HeldFiles:
    """The grader files the current worker was given (their paths inside), and the open blocks."""

    held: set[str] = field(default_factory=set)
    blocks: list[Block] = field(default_factory=list)
    loose: set[str] = field(default_factory=set)  # shared by `share_file`: given to the requests that name them

    def given(self, inside_path: str, *, loose: bool = False) -> None:
        self.held.add(inside_path)
        if loose:
            self.loose.add(inside_path)

    def must_restart_for(self, request: dict) -> bool:
        """Whether the worker holds a file that `request` is not given (by an open block, or by naming a file
        shared without one)."""
        if not self.held:
            return False
        named = set(_strings_in(request.get("args", ()))) | set(_strings_in(request.get("kwargs", {})))
        allowed = {block.inside for block in self.blocks} | (self.loose & named)
        return bool(self.held - allowed)

    def restarted(self) -> None:
        """A new worker holds nothing; the open blocks hand their files over again, under a new path."""
        self.held.clear()
        self.loose.clear()
        for block in self.blocks:
            if block.inside is not None:
                block.earlier.add(block.inside)
                block.inside = None

    def current_paths(self, request: dict) -> dict:
        """`request` with a block's path in a restarted worker replaced by its path in this one."""
        moved = {old: block.inside for block in self.blocks if block.inside for old in block.earlier}
        if not moved:
            return request
        return {key: _replaced(value, moved) if key in ("args", "kwargs") else value for key, value in request.items()}


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
