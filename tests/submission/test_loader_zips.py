"""The loader on zips: one top folder descended, unsafe or lying members refused, bombs stopped by
the limits, and the same hash as the folder it holds."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from graders.core.errors import SubmissionLoadError
from graders.submission.loader import LoaderLimits, prepare_submission
from tests.submission.files import MB, write_notebook, write_zip

# --- zips --------------------------------------------------------------------------------------


def test_zip_with_one_top_folder_is_descended(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", "import os\nos.listdir('.')").read_text()
    path = write_zip(tmp_path / "sub.zip", {
        "student_123/hw3.py": "from util import f\n", "student_123/util.py": "def f():\n    return 1\n",
        "student_123/q5/shapes.ipynb": notebook, "student_123/README.md": "hi",
        "__MACOSX/student_123/._hw3.py": b"\x00\x05\x16\x07", "student_123/.ipynb_checkpoints/x.ipynb": "junk",
    })
    prepared = prepare_submission(path)
    assert prepared.label == str(path)
    assert [u.origin for u in prepared.units] == ["hw3.py", "q5/shapes.ipynb", "util.py"]
    assert [u.filename for u in prepared.units] == ["hw3.py", "q5/shapes_ipynb.py", "util.py"]
    assert prepared.skipped[0].origin == "q5/shapes.ipynb, cell 1, line 2"


def test_zip_and_folder_hash_alike_and_temp_files_are_removed(tmp_path, monkeypatch):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "hw3.py").write_text("X = 1\n")
    path = write_zip(tmp_path / "sub.zip", {"hw3.py": "X = 1\n"})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    assert prepare_submission(path).content_hash == prepare_submission(folder).content_hash
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("name", ["../x.py", "/etc/x.py", "a/../../x.py", "C:/x.py", "..\\x.py", "\\x.py"])
def test_zip_unsafe_member_names_are_refused(tmp_path, name):
    path = write_zip(tmp_path / "sub.zip", {"hw3.py": "X = 1\n", name: "Y = 1\n"})
    assert name in zipfile.ZipFile(path).namelist()
    with pytest.raises(SubmissionLoadError, match="unsafe path"):
        prepare_submission(path)


def test_zip_backslash_separators_are_accepted(tmp_path):
    path = write_zip(tmp_path / "sub.zip", {"top\\hw3.py": "X = 1\n"})
    assert [u.origin for u in prepare_submission(path).units] == ["hw3.py"]


def test_zip_symlink_member_is_refused(tmp_path):
    path = tmp_path / "sub.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hw3.py", "X = 1\n")
        link = zipfile.ZipInfo("link.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(SubmissionLoadError, match=r"symbolic link \(link.py\)"):
        prepare_submission(path)


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    return write_zip(tmp_path_factory.mktemp("bomb") / "bomb.zip", {"hw3.py": b"\0" * (50 * MB)})


def test_zip_bomb_trips_the_file_size_limit(zip_bomb):
    with pytest.raises(SubmissionLoadError, match="hw3.py is 50.0 MiB"):
        prepare_submission(zip_bomb)


def test_zip_bomb_trips_the_ratio_limit(zip_bomb):
    with pytest.raises(SubmissionLoadError, match="more than 200 times its compressed size"):
        prepare_submission(zip_bomb, limits=LoaderLimits(max_file_bytes=100 * MB, max_total_bytes=200 * MB))


def test_zip_total_size_and_count_limits(tmp_path):
    path = write_zip(tmp_path / "sub.zip", {f"m{i}.py": os.urandom(600).hex() for i in range(3)})
    with pytest.raises(SubmissionLoadError, match="add up to more than"):
        prepare_submission(path, limits=LoaderLimits(max_total_bytes=3000))
    with pytest.raises(SubmissionLoadError, match="3 .py/.ipynb files; the limit is 2"):
        prepare_submission(path, limits=LoaderLimits(max_files=2))


def test_zip_member_whose_declared_size_lies(tmp_path):
    path = write_zip(tmp_path / "sub.zip", {"hw3.py": b"#" * (5 * MB)})
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).getinfo("hw3.py").file_size == 10
    with pytest.raises(SubmissionLoadError, match="cannot unpack hw3.py"):
        prepare_submission(path)


def test_zip_non_utf8_member_names_do_not_crash(tmp_path):
    cp437 = write_zip(tmp_path / "cp437.zip", {"cafX.py": "X = 1\n"})
    cp437.write_bytes(cp437.read_bytes().replace(b"cafX.py", b"caf\x82.py"))
    assert [u.origin for u in prepare_submission(cp437).units] == ["caf\u00e9.py"]
    broken = write_zip(tmp_path / "utf8.zip", {"caf\u00e9.py": "X = 1\n"})
    broken.write_bytes(broken.read_bytes().replace("caf\u00e9".encode(), b"caf\xff\xfe"))
    with pytest.raises(SubmissionLoadError, match="not a valid zip"):
        prepare_submission(broken)


@pytest.mark.parametrize("members", [{}, {"README.md": "hi", "data/x.csv": "1,2"}])
def test_zip_without_python_is_refused(tmp_path, members):
    path = write_zip(tmp_path / "foo.zip", members)
    with pytest.raises(SubmissionLoadError, match=f"no .py or .ipynb file found in {path}"):
        prepare_submission(path)


def test_corrupt_zip_is_refused(tmp_path):
    (tmp_path / "sub.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SubmissionLoadError, match="not a valid zip"):
        prepare_submission(tmp_path / "sub.zip")
