"""An HTTP receiver on loopback that misbehaves on purpose: it reads each request, then
either trickles its answer (one byte every `every` seconds) or answers a huge body as fast
as the client reads it. It counts what it managed to write."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Self

ANSWER = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"


class SlowReceiver:
    def __init__(self, mode: str = "trickle", *, every: float = 3.0, size: int = 0) -> None:
        if mode not in ("trickle", "huge"):
            raise ValueError("mode is trickle or huge")
        self.mode = mode
        self.every = every
        self.size = size
        self.requests = 0
        self.bytes_written = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            self._read_request(connection)
            with self._lock:
                self.requests += 1
            if self.mode == "trickle":
                for byte in ANSWER:
                    connection.sendall(bytes([byte]))
                    self._wrote(1)
                    if self._stop.wait(self.every):
                        return
            else:
                head = f"HTTP/1.1 201 Created\r\nContent-Length: {self.size}\r\n\r\n".encode()
                connection.sendall(head)
                chunk = b"x" * 65536
                left = self.size
                while left > 0 and not self._stop.is_set():
                    connection.sendall(chunk[: min(left, len(chunk))])
                    self._wrote(min(left, len(chunk)))
                    left -= len(chunk)

    def _wrote(self, count: int) -> None:
        with self._lock:
            self.bytes_written += count

    @staticmethod
    def _read_request(connection: socket.socket) -> None:
        connection.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            part = connection.recv(65536)
            if not part:
                return
            data += part
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            part = connection.recv(65536)
            if not part:
                return
            body += part


def wait_until(predicate, timeout: float = 10.0, step: float = 0.01) -> bool:  # type: ignore[no-untyped-def]
    """Poll until `predicate()` is true; False when it never became so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
