"""`hw3grade kit OUT`: build the student kit, one wheel a student installs with `pip install FILE`.

The kit holds the grading machinery of its questions (graders/kit/contents.py), the rubric cut to them,
and what the builder records from the reference (graders/recorded/ in the kit): the trusted values of the
public seed's cases, the contract's signatures, its pytest configuration and its manifest. It is scanned
for leaks once written (graders/kit/leaks.py): a wheel that holds anything of an answer is deleted and
the build fails.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from graders.core.errors import HarnessError
from graders.core.paths import KIT_DIR, PROJECT_ROOT
from graders.harness.outputs import package_versions
from graders.kit.contents import (
    RUBRIC,
    converted_questions,
    kit_questions,
    refuse_reference_imports,
    rubric_for,
    shipped_files,
)
from graders.kit.leaks import find_leaks
from graders.kit.record import Recording, record_public_values
from graders.kit.wheel import WheelSpec, write_wheel
from graders.questions import signatures

KIT_NAME = "hw3check"
SCRIPTS = {"hw3check": "hw3check.cli:main"}
RECORDED = KIT_DIR.relative_to(PROJECT_ROOT).as_posix()  # "graders/recorded"


@dataclass(frozen=True)
class KitBuild:
    """A built kit: its wheel, what it holds, and the recording made for it."""

    wheel: Path
    version: str
    questions: tuple[str, ...]
    files: tuple[str, ...]  # paths inside the wheel (its metadata apart)
    recording: Recording

    def describe(self) -> str:
        size = self.wheel.stat().st_size
        return (f"wrote {self.wheel} ({size / 1024:.0f} KiB, {len(self.files)} files): the public checks of "
                f"{', '.join(self.questions)}, {self.recording.values} recorded values of the public seed "
                f"{self.recording.seed}; withheld (checked in the TA's grading): "
                f"{', '.join(f'{q} {kind}' for q, kind in self.recording.withheld) or 'nothing'}")


def build_kit(*, out: str | Path, questions=None, extra_files: dict[str, bytes] | None = None,
              scan: bool = True) -> KitBuild:
    """Build the student kit into the folder `out`.

    Args:
        questions: the questions it holds (default: every question); each must be converted to the trusted side.
        extra_files: more {path in the wheel: content} (tests: a deliberately bad kit); they are scanned too.
        scan: scan the wheel for leaks and refuse it (tests of the scanner build a bad kit without).

    Raises:
        HarnessError: a shipped module imports reference/, the reference fails a check at the public seed,
            or the wheel holds something of an answer (it is deleted).
    """
    chosen = kit_questions(questions)
    sources = shipped_files(chosen)
    try:
        refuse_reference_imports(sources)
    except HarnessError as refused:
        raise HarnessError(f"{refused}\nthe questions a kit can hold today: "
                           f"{', '.join(converted_questions()) or 'none'}") from None
    files = {path: source.read_bytes() for path, source in sources.items()}
    files.update(declared_files(chosen))
    files[RUBRIC] = rubric_for(chosen, (PROJECT_ROOT / RUBRIC).read_text(encoding="utf-8")).encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="hw3kit-") as scratch:
        recording = record_public_values(chosen, Path(scratch) / "trusted.json")
        files[f"{RECORDED}/trusted.json"] = recording.path.read_bytes()
    files[f"{RECORDED}/signatures.json"] = _json(signatures(chosen))
    files[f"{RECORDED}/pytest.ini"] = pytest_ini().encode("utf-8")
    files.update(extra_files or {})
    project = _project()
    version = f"{project['version']}+k{_digest(files)}"
    files[f"{RECORDED}/kit.json"] = _json({"name": KIT_NAME, "version": version, "questions": list(chosen),
                                           "seed": recording.seed, "dataset": recording.dataset,
                                           "built_with": package_versions(),
                                           "withheld": [list(item) for item in recording.withheld]})
    spec = WheelSpec(name=KIT_NAME, version=version, summary="HW3's public checks for students: hw3check "
                     "my_hw3.ipynb, or check(\"q5\") in the notebook (no solution inside)",
                     requires_python=project["requires-python"], requires=kit_dependencies(project),
                     scripts=SCRIPTS, description=DESCRIPTION)
    wheel = write_wheel(Path(out), spec, files)
    if scan:
        leaks = find_leaks(wheel)
        if leaks:
            wheel.unlink()
            raise HarnessError(f"the kit was not written: it holds {len(leaks)} thing(s) that answer a question:\n  "
                               + "\n  ".join(map(str, leaks[:40])))
    return KitBuild(wheel=wheel, version=version, questions=chosen, files=tuple(sorted(files)), recording=recording)


def declared_files(questions: tuple[str, ...]) -> dict[str, bytes]:
    """The files a question ships besides code: its module's `KIT_FILES()`, {path in the kit: source file}
    (q7's grader-owned CNN, once q7 declares it). Scanned for leaks like everything else."""
    files = {}
    for question in questions:
        declared = getattr(importlib.import_module(f"graders.questions.{question}"), "KIT_FILES", None)
        files.update({name: Path(source).read_bytes() for name, source in (declared() if declared else {}).items()})
    return files


def kit_dependencies(project: dict) -> tuple[str, ...]:
    """The project's dependencies, less those `[tool.hw3grader.kit] leave-out` names (the TA's only)."""
    left_out = set(_kit_settings().get("leave-out", []))
    return tuple(item for item in project["dependencies"] if _requirement_name(item) not in left_out)


def pytest_ini() -> str:
    """The kit's pytest configuration: the project's, less what only this repository needs."""
    options = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]
    settings = options["ini_options"]
    lines = ["[pytest]", f"addopts = {settings['addopts']}", f"timeout = {settings['timeout']}", "markers ="]
    lines += [f"    {marker}" for marker in settings["markers"]]
    # The kit runs the student's own code on the student's machine: a plain process there is no alarm.
    lines += ["filterwarnings =", *(f"    {rule}" for rule in settings["filterwarnings"]),
              "    ignore::graders.sandbox.sandbox.UnconfinedRootWarning"]
    return "\n".join(lines) + "\n"


def _project() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _kit_settings() -> dict:
    data = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data.get("tool", {}).get("hw3grader", {}).get("kit", {})


def _requirement_name(requirement: str) -> str:
    name = requirement.split(";")[0]
    for mark in "<>=!~[ ":
        name = name.split(mark)[0]
    return name.strip().lower()


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode("utf-8") + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()[:10]


def _json(value) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True) + "\n").encode("utf-8")


DESCRIPTION = """# hw3check: HW3's public checks

Check your HW3 notebook before you submit it, without the solutions:

    hw3check hw3.ipynb                 # in a terminal: a score per question, and an HTML report
    hw3check hw3.ipynb --questions q5

or, in Jupyter or Colab:

    from hw3check import check, check_all
    check("q5")

These are the **public checks**: the TA's grading also runs hidden checks on a secret seed, and checks
the answers that do not depend on the seed (they are marked "TA's grading" here). Your score here is not
your grade.
"""
