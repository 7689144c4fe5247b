"""The worker's printed output, drained as it comes and kept as a bounded tail."""

from __future__ import annotations

import collections
import threading

OUTPUT_TAIL_BYTES = 64 * 1024


class OutputTail:
    """The last OUTPUT_TAIL_BYTES a worker printed (stdout and stderr together), however much it prints."""

    def __init__(self) -> None:
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._lock = threading.Lock()

    def drain(self, stream) -> None:
        """Read `stream` to its end in a daemon thread."""
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def text(self, limit: int) -> str:
        with self._lock:
            data = b"".join(self._chunks)
        return data.decode("utf-8", "replace")[-limit:]

    def _read(self, stream) -> None:
        # Keep only a bounded tail, so a submission that floods its output cannot exhaust memory.
        for chunk in iter(lambda: stream.read1(8192), b""):
            with self._lock:
                self._chunks.append(chunk)
                self._size += len(chunk)
                while self._size > OUTPUT_TAIL_BYTES and len(self._chunks) > 1:
                    self._size -= len(self._chunks.popleft())
