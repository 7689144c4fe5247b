"""The two pipes between the grading process and its worker, written and read within a deadline.

Reading is bounded: a frame is read part by part, never past its own end, its declared sizes are
refused over the limits before their bytes arrive, and its decoding counts inside the deadline.
"""

from __future__ import annotations

import os
import select
import time

from graders.inside import wire

PIPE_BYTES = 1 << 20  # pipe buffers: fewer wake-ups for the training data sent to a probe
_POLL_S = 1.0


class Expired(Exception):
    """The deadline passed before the frame was sent or received."""


class Closed(Exception):
    """The worker's end of a pipe is closed (it exited, or closed it)."""


class Channel:
    """A request pipe (grader -> worker) and a results pipe (worker -> grader)."""

    def __init__(self) -> None:
        requests_read, self._requests = os.pipe()
        self._results, results_write = os.pipe()
        for fd in (self._requests, self._results):
            _enlarge(fd)
        os.set_blocking(self._requests, False)  # a send honours its deadline
        self.worker_fds = (requests_read, results_write)  # passed to the worker, then closed here

    def started(self) -> None:
        """The worker holds its ends now: close ours, so its exit reads as end-of-file."""
        for fd in self.worker_fds:
            os.close(fd)
        self.worker_fds = ()

    def send(self, frame: bytes, deadline: float) -> None:
        """Write the whole frame before `deadline`.

        Raises:
            Expired: the worker did not read it in time. Closed: the worker is gone.
        """
        view = memoryview(frame)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Expired()
            _, writable, _ = select.select([], [self._requests], [], min(remaining, _POLL_S))
            if not writable:
                continue
            try:
                view = view[os.write(self._requests, view[:PIPE_BYTES]):]
            except BlockingIOError:
                continue
            except OSError:  # BrokenPipeError included
                raise Closed() from None

    def receive(self, deadline: float, limits: wire.FrameLimits):
        """Read and decode one frame before `deadline`.

        Raises:
            Expired: not all of it came in time, or decoding ended past the deadline.
            Closed: the worker closed the pipe. wire.WireError: the frame is over a limit or malformed.
        """
        reader = wire.FrameReader(limits)
        while not reader.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Expired()
            ready, _, _ = select.select([self._results], [], [], min(remaining, _POLL_S))
            if ready:
                chunk = os.read(self._results, min(reader.wanted(), wire.READ_CHUNK))
                if not chunk:
                    raise Closed()
                reader.feed(chunk)
        value = wire.decode(*reader.parts(), limits)
        if time.monotonic() > deadline:  # decoding counts inside the call's time
            raise Expired()
        return value

    def close(self) -> None:
        for fd in (self._requests, self._results, *self.worker_fds):
            try:
                os.close(fd)
            except OSError:
                pass
        self.worker_fds = ()


def _enlarge(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # the default buffer works, with more wake-ups
