"""Hostile sample, the other half of channel_writer: it looks, for a while, for the writer's message in
every kernel object and writable place the writer used, and reports what it found in conv2d_params'
error. It must find nothing: no two gradings share a keyring, an IPC object, a socket or a file."""
import ctypes
import os
import socket
import tempfile
import time

MESSAGE = b"hw3-attack-channel"
NAME = "hw3chan"
SYSV_KEY = 0x48330721
libc = ctypes.CDLL(None, use_errno=True)
SYS_REQUEST_KEY, SYS_KEYCTL = 249, 250
KEYCTL_READ, KEYCTL_GET_PERSISTENT = 11, 22
KEYRINGS = {"thread": -1, "process": -2, "session": -3, "user": -4, "user-session": -5}


def _keyrings():
    found = []
    for kind, ring in KEYRINGS.items():
        key = libc.syscall(SYS_REQUEST_KEY, b"user", NAME.encode(), None, ring)
        if key > 0:
            found.append(f"keyring:{kind}")
    persistent = libc.syscall(SYS_KEYCTL, KEYCTL_GET_PERSISTENT, -1, 0)
    if persistent > 0:
        buffer = ctypes.create_string_buffer(4096)
        if libc.syscall(SYS_KEYCTL, KEYCTL_READ, persistent, buffer, 4096) > 0:
            found.append("keyring:persistent")
    return found


def _sysv():
    found = []
    if libc.shmget(SYSV_KEY, 0, 0) >= 0:
        found.append("sysv:shm")
    if libc.semget(SYSV_KEY, 0, 0) >= 0:
        found.append("sysv:sem")
    if libc.msgget(SYSV_KEY, 0) >= 0:
        found.append("sysv:msg")
    return found


def _mqueue():
    try:
        rt = ctypes.CDLL("librt.so.1", use_errno=True)
    except OSError:
        rt = libc
    return ["posix:mqueue"] if rt.mq_open(f"/{NAME}".encode(), os.O_RDONLY) >= 0 else []


def _abstract_socket():
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(f"\0{NAME}")
            return ["abstract socket"] if client.recv(100) == MESSAGE else []
    except OSError:
        return []


def _files():
    folders = ["/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~"), tempfile.gettempdir(), os.getcwd(),
               os.path.dirname(os.getcwd())]
    found = []
    for folder in dict.fromkeys(folders):
        try:
            with open(os.path.join(folder, NAME), "rb") as handle:
                if handle.read() == MESSAGE:
                    found.append(f"file:{folder}")
        except OSError:
            pass
    return found


def look(seconds=0.0):
    """What of the writer's message can be found, trying for `seconds` (a concurrent writer may be late)."""
    deadline = time.monotonic() + seconds
    while True:
        found = _keyrings() + _sysv() + _mqueue() + _abstract_socket() + _files()
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.5)


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    raise RuntimeError(f"channels found: {look(10)}")


def dense_params(in_features, units):
    return in_features * units + units
