"""Where the project's own files are, and the cache every grading shares."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GRADERS_DIR = PROJECT_ROOT / "graders"
REFERENCE_DIR = PROJECT_ROOT / "reference"


def cache_dir() -> Path:
    """$HW3_CACHE_DIR, else ~/.cache/hw3grader: MNIST's npz and the reference models and maps."""
    configured = os.environ.get("HW3_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "hw3grader"
