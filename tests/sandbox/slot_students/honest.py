"""An honest student graded after hostile.py in the same worker slot (tests/sandbox/test_slots.py):
`look()` searches everything it can see for what the hostile student left."""
import ctypes
import hashlib
import os
import socket

MARK = "hw3-slot-leftover"
PATTERN = hashlib.sha256(MARK.encode()).digest()
libc = ctypes.CDLL(None, use_errno=True)
SYS_REQUEST_KEY = 249


def dense_params(in_features, units):
    return in_features * units + units


def memory_count(needle):
    """How often `needle` is in this process's own anonymous memory."""
    count = 0
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as memory:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or (len(fields) > 5 and not fields[5].startswith("[heap")):
                continue
            start, end = (int(part, 16) for part in fields[0].split("-"))
            tail = b""
            for offset in range(start, end, 1 << 22):
                try:
                    memory.seek(offset)
                    block = tail + memory.read(min(1 << 22, end - offset))
                except OSError:
                    break
                count += block.count(needle)
                tail = block[-(len(needle) - 1):]
    return count


def _files():
    found = [path for folder in (os.path.expanduser("~"), os.environ["TMPDIR"], os.getcwd())
             for path in [os.path.join(folder, name) for name in os.listdir(folder)] if MARK in path]
    for root, dirs, files in os.walk("/"):
        if root.startswith(("/proc", "/sys")):
            dirs[:] = []
            continue
        found += [os.path.join(root, name) for name in files + dirs if MARK in name]
    return found


def _processes():
    seen = {}
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                seen[int(pid)] = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            seen[int(pid)] = "?"
    return seen


def _abstract_socket():
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(f"\0{MARK}")
            return True
    except OSError:
        return False


def look():
    with open("/proc/net/unix") as sockets:
        unix = [line for line in sockets if MARK in line]
    ipc = {}
    for kind in ("shm", "sem", "msg"):
        with open(f"/proc/sysvipc/{kind}") as table:
            ipc[kind] = table.read().splitlines()[1:]
    key = libc.syscall(SYS_REQUEST_KEY, b"user", MARK.encode(), None, -4)
    return {"pid": os.getpid(), "files": _files(), "processes": _processes(), "abstract_socket": _abstract_socket(),
            "unix_sockets": unix, "sysv": ipc, "keyring": key > 0,
            "environment": {k: v for k, v in os.environ.items() if MARK in k + v or k == "HW3_SLOT_LEFTOVER"},
            "memory": memory_count(PATTERN * 4)}
