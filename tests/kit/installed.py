"""A built student kit, installed where nothing else of this repository can be imported.

The wheel is unpacked into a folder, as pip would put it into site-packages, and every process of a
test that uses it (the grading, the kit's grading server, a Jupyter kernel) runs this venv's Python with
`PYTHONPATH=<guard>:<kit>`: the guard's sitecustomize makes `graders`, `reports` and `hw3check` come
from the kit only (never from this checkout, which the venv's editable install would serve) and makes
any import of `reference` fail, so a kit that needed the solutions could not pass its tests by reaching
into this repository. The sandbox's worker runs `python -I`: it imports nothing of either.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

GUARD = '''"""Installed by tests/kit/installed.py: graders, reports and hw3check from the kit only; no reference."""
import importlib.machinery
import os
import sys

KIT = os.environ["HW3_KIT_DIR"]


class KitOnly:
    @staticmethod
    def find_spec(name, path=None, target=None):
        top = name.partition(".")[0]
        if top == "reference":
            raise ImportError(f"the student kit imported {name}: it must neither hold nor need the solutions")
        if top in ("graders", "reports", "hw3check") and name == top:
            spec = importlib.machinery.PathFinder.find_spec(name, [KIT])
            if spec is None:
                raise ImportError(f"{name} is not in the kit {KIT}")
            return spec
        return None


sys.meta_path.insert(0, KitOnly)
'''


@dataclass(frozen=True)
class InstalledKit:
    """An unpacked kit and the environment that runs it alone."""

    wheel: Path
    folder: Path  # the unpacked wheel: what site-packages would hold
    guard: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": f"{self.guard}{os.pathsep}{self.folder}", "HW3_KIT_DIR": str(self.folder)}

    def run(self, *args: str, cwd: Path, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
        """`python ARGS` with only the kit importable, in `cwd` (never this checkout)."""
        return subprocess.run([sys.executable, *args], cwd=cwd, env={**self.env, **(env or {})}, capture_output=True,
                              text=True, timeout=timeout)


def install(wheel: Path, folder: Path) -> InstalledKit:
    """Unpack `wheel` into `folder`/site and write the guard beside it."""
    site = folder / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    guard = folder / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    return InstalledKit(wheel=wheel, folder=site, guard=guard)
