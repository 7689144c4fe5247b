"""What a kit ships, what stops its build, its rubric, signatures, metadata and wheel (no grading here)."""

import base64
import hashlib
import json
import zipfile

import pytest

from graders.core.errors import HarnessError
from graders.core.paths import PROJECT_ROOT
from graders.core.rubric import Rubric
from graders.kit import build
from graders.kit.contents import (
    imported_modules,
    kit_questions,
    refuse_reference_imports,
    refused_imports,
    rubric_for,
    shipped_files,
)
from graders.kit.wheel import WheelSpec, write_wheel
from graders.questions import QUESTIONS, signatures


def test_a_kit_ships_the_machinery_and_no_module_that_computes_from_the_reference():
    files = shipped_files(("q4", "q5"))
    assert {"graders/test_q4_params.py", "graders/test_q5_shapes.py", "graders/harness/plugin.py",
            "graders/inside/worker.py", "graders/sandbox/sandbox.py", "graders/questions/q5/judges.py",
            "reports/render.py", "reports/templates/report.html.j2", "hw3check/notebook.py"} <= set(files)
    assert "graders/core/trusted.py" in files, "the trusted side itself: it computes nothing"
    assert not [path for path in files if path.startswith(("reference", "tests", "graders/questions/q4/trusted",
                                                            "graders/questions/q5/trusted"))]
    assert not [path for path in files if path.startswith(("graders/commands/", "graders/kit/", "graders/similarity/"))]
    assert "graders/questions/starter.py" not in files
    others = [q for q in QUESTIONS if q.id not in ("q4", "q5")]
    assert not [path for path in files for q in others
                if path.startswith(f"graders/questions/{q.id}/") or path == f"graders/{q.grader}.py"]


def test_a_shipped_module_that_imports_the_reference_stops_the_build_naming_it(tmp_path, monkeypatch):
    bad = tmp_path / "extra.py"
    bad.write_text("import math\n\n\ndef helper():\n    from reference import q5_shapes\n    return q5_shapes\n")
    files = {**shipped_files(("q4", "q5")), "graders/questions/q5/extra.py": bad}
    with pytest.raises(HarnessError, match=r"graders/questions/q5/extra\.py:5 imports reference"):
        refuse_reference_imports(files)
    monkeypatch.setattr(build, "shipped_files", lambda questions: files)
    with pytest.raises(HarnessError, match=r"extra\.py:5 imports reference"):  # before anything is graded
        build.build_kit(out=tmp_path / "out", questions=("q4", "q5"))
    assert not (tmp_path / "out").exists()


def test_every_kind_of_import_is_seen():
    source = ("import reference.q5_shapes\nimport importlib\nx = importlib.import_module('reference.q6_batchnorm')\n"
              "y = __import__('reference')\nfrom graders.commands import cli\n")
    modules = dict(imported_modules(source))
    assert modules[1] == "reference.q5_shapes" and modules[3] == "reference.q6_batchnorm" and modules[4] == "reference"
    refused = {(r.line, r.imports) for r in refused_imports({"graders/x.py": _file(source)} | _core())}
    assert {line for line, _ in refused} == {1, 3, 4, 5}, "and a module the kit leaves out (graders.commands)"


def test_the_whole_kit_is_refused_while_a_question_still_imports_the_reference():
    refused = refused_imports(shipped_files(kit_questions()))
    if not refused:
        pytest.skip("every question is converted: the whole kit builds")
    with pytest.raises(HarnessError) as raised:
        refuse_reference_imports(shipped_files(kit_questions()))
    for item in refused:
        assert f"{item.module}:{item.line}" in str(raised.value)


def test_the_rubric_keeps_the_kit_questions_and_the_sandbox():
    text = (PROJECT_ROOT / "graders" / "rubric.toml").read_text()
    trimmed = Rubric(__import__("tomllib").loads(rubric_for(("q4", "q5"), text)), path=PROJECT_ROOT)
    assert trimmed.questions() == ["q4", "q5"]
    assert trimmed.data["sandbox"] == Rubric.load().data["sandbox"]
    assert trimmed.data["q5"] == Rubric.load().data["q5"]


def test_signatures_are_recorded_from_the_reference():
    recorded = signatures(("q4", "q5"))
    assert recorded["conv_output_size"] == "conv_output_size(size, kernel, stride=1, padding='valid', dilation=1)"
    assert set(recorded) == {e.name for q in QUESTIONS if q.id in ("q4", "q5") for e in q.contract if e.function}


def test_the_kit_depends_on_what_a_grading_needs_not_on_the_batch_scheduler():
    requires = build.kit_dependencies(build._project())
    assert any(item.startswith("tensorflow") for item in requires) and any("mlxtend" in item for item in requires)
    assert not any(item.startswith("distributed") for item in requires)
    ini = build.pytest_ini()
    assert ini.startswith("[pytest]") and "pythonpath" not in ini and "UnconfinedRootWarning" in ini


def test_a_wheel_is_what_pip_reads_and_the_same_bytes_every_time(tmp_path):
    spec = WheelSpec(name="hw3check", version="0.1.0+k0", summary="s", requires_python=">=3.11",
                     requires=("numpy>=2.0",), scripts={"hw3check": "hw3check.cli:main"})
    files = {"hw3check/__init__.py": b"x = 1\n", "graders/rubric.toml": b"[q4]\n"}
    first = write_wheel(tmp_path / "a", spec, files).read_bytes()
    wheel = write_wheel(tmp_path / "b", spec, dict(reversed(files.items())))
    assert wheel.read_bytes() == first and wheel.name == "hw3check-0.1.0+k0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record = archive.read("hw3check-0.1.0+k0.dist-info/RECORD").decode().splitlines()
        for row in record[:-1]:
            name, digest, size = row.split(",")
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data)
        assert "Requires-Dist: numpy>=2.0" in archive.read("hw3check-0.1.0+k0.dist-info/METADATA").decode()
        assert archive.read("hw3check-0.1.0+k0.dist-info/entry_points.txt").decode() == \
            "[console_scripts]\nhw3check = hw3check.cli:main\n"
    assert set(names) >= {"hw3check/__init__.py", "graders/rubric.toml"}


def _file(source: str):
    class Source:
        def read_text(self, encoding):
            return source
    return Source()


def _core():
    return {path: source for path, source in shipped_files(("q4",)).items() if path.startswith("graders/core/")}


def test_kit_questions_are_declared_ones():
    assert kit_questions(["q5", "q4"]) == ("q4", "q5")
    with pytest.raises(HarnessError, match="q9"):
        kit_questions(["q9"])
    json.dumps(kit_questions())
