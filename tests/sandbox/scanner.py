"""A submission that reads everything it can and looks for the grader's digits and labels in it.

Loaded as the student's code by tests/sandbox/test_no_answers_inside.py (and run on the host once, on a
file that does hold the digits, to show that it finds them). Stdlib only: it must run in the worker.
"""
import bz2
import gzip
import lzma
import os
import time
import zipfile

SKIPPED_ROOTS = ("/proc", "/sys", "/dev")
COMPRESSED = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress, ".lzma": lzma.decompress}
MOST_BYTES = 1 << 30  # a file (or a member once decompressed) larger than this is read up to it


def scan(needles, code_needles, budget_s, roots=("/",)):
    """Every file under `roots`: its bytes, and the bytes of compressed files and archive members once
    decompressed, searched for `needles` ({name: bytes}); compiled code (ELF, .pyc) for `code_needles` only.

    Returns:
        {"hits": [[path, needle name], ...], "files": n, "bytes": n, "finished": bool, "unreadable": n}
    """
    needles, code_needles = _as_bytes(needles), _as_bytes(code_needles)
    deadline = time.monotonic() + budget_s
    report = {"hits": [], "files": 0, "bytes": 0, "finished": False, "unreadable": 0}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if os.path.join(folder, d) not in SKIPPED_ROOTS)
            for name in files:
                if time.monotonic() > deadline:
                    return report
                _scan_file(os.path.join(folder, name), needles, code_needles, report)
    report["finished"] = True
    return report


def _as_bytes(needles):
    """Needles arrive as uint8 arrays (bytes do not cross the sandbox's wire)."""
    return {name: value.tobytes() if hasattr(value, "tobytes") else bytes(value) for name, value in needles.items()}


def _scan_file(path, needles, code_needles, report):
    try:
        if os.path.islink(path) or not os.path.isfile(path):
            return
        with open(path, "rb") as handle:
            data = handle.read(MOST_BYTES)
    except OSError:
        report["unreadable"] += 1
        return
    report["files"] += 1
    report["bytes"] += len(data)
    code = data[:4] == b"\x7fELF" or path.endswith(".pyc")
    _search(path, data, code_needles if code else needles, report)
    for content, where in _unpacked(path, data):
        _search(where, content, needles, report)


def _unpacked(path, data):
    suffix = os.path.splitext(path)[1].lower()
    if suffix in COMPRESSED:
        try:
            yield COMPRESSED[suffix](data)[:MOST_BYTES], path
        except Exception:  # noqa: BLE001 - not really compressed
            return
    elif data[:4] == b"PK\x03\x04":  # zip, npz, jar, wheel
        try:
            import io

            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.infolist():
                    if member.file_size <= MOST_BYTES:
                        content = archive.read(member)
                        yield content, f"{path}!{member.filename}"
                        if member.filename.lower().endswith(tuple(COMPRESSED)):
                            try:
                                yield COMPRESSED[os.path.splitext(member.filename)[1].lower()](content), \
                                    f"{path}!{member.filename}"
                            except Exception:  # noqa: BLE001
                                pass
        except Exception:  # noqa: BLE001 - a damaged archive
            return


def _search(where, data, needles, report):
    for name, needle in needles.items():
        if data.find(needle) >= 0:
            report["hits"].append([where, name])
