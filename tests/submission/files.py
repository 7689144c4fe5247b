"""Submission files for the loader tests: notebooks and zips written to tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat

MB = 2**20


def write_notebook(path: Path, *cells: str, markdown: str | None = None) -> Path:
    notebook = nbformat.v4.new_notebook()
    if markdown is not None:
        notebook.cells.append(nbformat.v4.new_markdown_cell(markdown))
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in cells)
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    return path


def write_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def assert_compiles(code: str) -> None:
    compile(code, "<unit>", "exec")  # the test may compile; the loader never does
