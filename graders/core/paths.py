"""Where the project's own files are, and the cache every grading shares."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GRADERS_DIR = PROJECT_ROOT / "graders"
REFERENCE_DIR = PROJECT_ROOT / "reference"
# The student kit's own files (written by `hw3grade kit`, never in this repository): the trusted values
# recorded at the public seed, the contract's signatures, the kit's manifest and its pytest configuration.
KIT_DIR = GRADERS_DIR / "recorded"
KIT_MANIFEST = KIT_DIR / "kit.json"
KIT_RECORDING = KIT_DIR / "trusted.json"
KIT_SIGNATURES = KIT_DIR / "signatures.json"


def in_kit() -> bool:
    """Whether this is the student kit (its manifest is here), not the TA's grader."""
    return KIT_MANIFEST.is_file()


def pytest_config() -> Path:
    """The pytest configuration a grading names with `-c`: the project's pyproject.toml, the kit's own ini."""
    return KIT_DIR / "pytest.ini" if in_kit() else PROJECT_ROOT / "pyproject.toml"


def cache_dir() -> Path:
    """$HW3_CACHE_DIR, else ~/.cache/hw3grader: MNIST's npz and the reference models and maps."""
    configured = os.environ.get("HW3_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "hw3grader"
