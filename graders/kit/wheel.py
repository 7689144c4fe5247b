"""Write a pure-Python wheel (PEP 427) from files in memory: the student kit, installed with `pip install FILE`.

Reproducible: entries sorted, fixed timestamps and permissions, so the same kit gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: no build time in the file


@dataclass(frozen=True)
class WheelSpec:
    """What the wheel's metadata says: its name, version, dependencies and console scripts."""

    name: str
    version: str
    summary: str
    requires_python: str
    requires: tuple[str, ...] = ()
    scripts: dict[str, str] = field(default_factory=dict)  # {command: "module:function"}
    description: str = ""

    @property
    def dist_info(self) -> str:
        return f"{self.name}-{self.version}.dist-info"

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}-py3-none-any.whl"


def write_wheel(folder: Path, spec: WheelSpec, files: dict[str, bytes]) -> Path:
    """Write `files` ({path in the wheel: content}) and the metadata of `spec` as a wheel in `folder`.

    Returns:
        The wheel's path.
    """
    contents = dict(sorted(files.items()))
    tops = sorted({path.split("/")[0] for path in contents})
    contents[f"{spec.dist_info}/METADATA"] = _metadata(spec).encode("utf-8")
    contents[f"{spec.dist_info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: hw3grade kit\nRoot-Is-Purelib: true\n"
                                           "Tag: py3-none-any\n").encode("utf-8")
    if spec.scripts:
        lines = "".join(f"{command} = {target}\n" for command, target in sorted(spec.scripts.items()))
        contents[f"{spec.dist_info}/entry_points.txt"] = f"[console_scripts]\n{lines}".encode("utf-8")
    contents[f"{spec.dist_info}/top_level.txt"] = "".join(f"{top}\n" for top in tops).encode("utf-8")
    record = f"{spec.dist_info}/RECORD"
    contents[record] = _record(contents, record).encode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / spec.filename
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for name, data in contents.items():
            info = zipfile.ZipInfo(name, date_time=TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return path


def _metadata(spec: WheelSpec) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {spec.name}", f"Version: {spec.version}", f"Summary: {spec.summary}",
             f"Requires-Python: {spec.requires_python}", *(f"Requires-Dist: {item}" for item in spec.requires),
             "Description-Content-Type: text/markdown"]
    return "\n".join(lines) + "\n\n" + spec.description


def _record(contents: dict[str, bytes], record: str) -> str:
    """RECORD: every file's path, sha256 (urlsafe base64, unpadded) and size; RECORD itself without them."""
    rows = []
    for name, data in contents.items():
        if name != record:
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
            rows.append(f"{name},sha256={digest},{len(data)}")
    return "\n".join([*rows, f"{record},,"]) + "\n"
