"""Hostile sample, one half of a pair: it leaves a message for a later (or concurrent) grading in every
kernel object two workers could share: keyrings of every kind, SysV shared memory, semaphores and
message queues, a POSIX message queue, an abstract Unix socket (served while it lives), and files in
every writable place. channel_reader looks for it. conv2d_params reports what it stored; dense_params
keeps the worker alive for a while, so that a concurrent reader has time to look."""
import ctypes
import os
import socket
import tempfile
import threading
import time

MESSAGE = b"hw3-attack-channel"
NAME = "hw3chan"
SYSV_KEY = 0x48330721
libc = ctypes.CDLL(None, use_errno=True)
KEYRINGS = {"thread": -1, "process": -2, "session": -3, "user": -4, "user-session": -5}
SYS_ADD_KEY, SYS_KEYCTL = 248, 250
KEYCTL_GET_PERSISTENT = 22


def _keyrings():
    stored = []
    for kind, ring in KEYRINGS.items():
        if libc.syscall(SYS_ADD_KEY, b"user", NAME.encode(), MESSAGE, len(MESSAGE), ring) > 0:
            stored.append(f"keyring:{kind}")
    persistent = libc.syscall(SYS_KEYCTL, KEYCTL_GET_PERSISTENT, -1, -4)
    if persistent > 0 and libc.syscall(SYS_ADD_KEY, b"user", NAME.encode(), MESSAGE, len(MESSAGE), persistent) > 0:
        stored.append("keyring:persistent")
    return stored


def _sysv():
    stored = []
    shm = libc.shmget(SYSV_KEY, 4096, 0o1666)
    if shm >= 0:
        libc.shmat.restype = ctypes.c_void_p
        address = libc.shmat(shm, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            ctypes.memmove(address, MESSAGE, len(MESSAGE))
            stored.append("sysv:shm")
    if libc.semget(SYSV_KEY, 1, 0o1666) >= 0:
        stored.append("sysv:sem")
    queue = libc.msgget(SYSV_KEY, 0o1666)
    if queue >= 0:
        buffer = ctypes.create_string_buffer(8 + len(MESSAGE))
        ctypes.memmove(ctypes.addressof(buffer), (1).to_bytes(8, "little") + MESSAGE, 8 + len(MESSAGE))
        if libc.msgsnd(queue, buffer, len(MESSAGE), 0o4000) == 0:
            stored.append("sysv:msg")
    return stored


def _mqueue():
    try:
        rt = ctypes.CDLL("librt.so.1", use_errno=True)
    except OSError:
        rt = libc
    queue = rt.mq_open(f"/{NAME}".encode(), os.O_CREAT | os.O_RDWR, 0o666, None)
    if queue >= 0 and rt.mq_send(queue, MESSAGE, len(MESSAGE), 0) == 0:
        return ["posix:mqueue"]
    return []


def _serve(server):
    while True:
        try:
            connection, _ = server.accept()
            connection.sendall(MESSAGE)
            connection.close()
        except OSError:
            return


def _abstract_socket():
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(f"\0{NAME}")
        server.listen()
    except OSError:
        return []
    threading.Thread(target=_serve, args=(server,), daemon=True).start()
    return ["abstract socket"]


def places():
    folders = ["/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~"), tempfile.gettempdir(), os.getcwd(),
               os.path.dirname(os.getcwd())]
    return list(dict.fromkeys(folders))


def _files():
    stored = []
    for folder in places():
        try:
            with open(os.path.join(folder, NAME), "wb") as handle:
                handle.write(MESSAGE)
            stored.append(f"file:{folder}")
        except OSError:
            pass
    return stored


STORED = _keyrings() + _sysv() + _mqueue() + _abstract_socket() + _files()


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    kernel = [entry for entry in STORED if entry.startswith(("keyring:", "sysv:", "posix:"))]
    raise RuntimeError(f"kernel objects stored: {kernel}; also served: {[e for e in STORED if e not in kernel]}")


SLEPT = []


def dense_params(in_features, units):
    if not SLEPT:
        SLEPT.append(time.sleep(8))  # alive while a concurrent reader looks
    return in_features * units + units
