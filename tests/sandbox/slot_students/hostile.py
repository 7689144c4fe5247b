"""A hostile student graded first in a worker slot (tests/sandbox/test_slots.py): it leaves something of
itself everywhere it can, so that the next student of the same slot could find it, and tries to reach the
zygote it was forked from. `attack()` says what it managed."""
import ctypes
import hashlib
import os
import posix
import signal
import subprocess
import sys

MARK = "hw3-slot-leftover"
PATTERN = hashlib.sha256(MARK.encode()).digest()
LEFT_IN_MEMORY = PATTERN * (64 * 2**20 // len(PATTERN))  # 64 MiB of it, for the next student to look for
DAEMON = f"""
import socket, time
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind("\\0{MARK}")
server.listen()
while True:
    time.sleep(1)  # {MARK}
"""
libc = ctypes.CDLL(None, use_errno=True)
SYS_ADD_KEY = 248
STARTED = []


def writable_folders():
    """Every folder it can write in: those a walk finds (its own folder is not listable) and its own."""
    found = [os.path.expanduser("~"), os.environ["TMPDIR"], os.getcwd()]
    for root, dirs, _ in os.walk("/"):
        if root.startswith(("/proc", "/sys")):
            dirs[:] = []
        elif os.access(root, os.W_OK) and root not in found:
            found.append(root)
    return found


def memory_count(needle):
    """How often `needle` is in this process's own anonymous memory."""
    count = 0
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as memory:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or (len(fields) > 5 and not fields[5].startswith("[heap")):
                continue  # file-backed (libraries) or special
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


def _try(action):
    try:
        action()
        return "done"
    except OSError as exc:
        return type(exc).__name__


def attack():
    written = []
    for folder in writable_folders():
        try:
            with open(os.path.join(folder, MARK), "w") as handle:
                handle.write(MARK)
            written.append(folder)
        except OSError:
            pass
    STARTED.extend([subprocess.Popen([sys.executable, "-c", DAEMON], start_new_session=True),
                    subprocess.Popen(["bash", "-c", f"exec -a {MARK} sleep 1000"], start_new_session=True)])
    daemons = [process.pid for process in STARTED]
    os.environ["HW3_SLOT_LEFTOVER"] = MARK
    kernel = {"keyring": libc.syscall(SYS_ADD_KEY, b"user", MARK.encode(), b"x", 1, -4) > 0,
              "sysv_shm": libc.shmget(0x4833, 4096, 0o1666) >= 0, "sysv_msg": libc.msgget(0x4833, 0o1666) >= 0,
              "sysv_sem": libc.semget(0x4833, 1, 0o1666) >= 0}
    parent = os.getppid()
    return {"pid": os.getpid(), "parent": parent, "written": written, "daemons": daemons, "kernel": kernel,
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "parent_memory": _try(lambda: open(f"/proc/{parent}/mem", "rb").read(1)),
            "parent_environ": _try(lambda: open(f"/proc/{parent}/environ", "rb").read()),
            "signal_parent": _try(lambda: posix.kill(parent, signal.SIGKILL)),
            "signal_all": _try(lambda: posix.kill(-1, signal.SIGCONT)),
            "memory": memory_count(PATTERN * 4)}
