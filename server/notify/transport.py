"""One HTTP POST that no receiver can hold: a total deadline and a bounded reply.

The deadline covers everything from resolving the name to the last byte read (a receiver
that answers one byte every few seconds is cut off when it passes, not after each byte), and
at most `reply_limit` bytes of the reply are read, status line and headers included (a
receiver answering 800 MB costs us a few KiB). The connection is made to an address the
caller's destination rules allowed (`addresses_for`), with TLS checked against the host name;
kept-alive connections are reused per origin, only after a reply that was read whole.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import re
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MAX_REPLY_BYTES", "DeadlinePassed", "Reply", "ReplyTooLarge", "Transport"]

# A push service answers 201 with an empty body and a few headers (Location, maybe
# Retry-After); a webhook receiver anything short. Status line, headers and body together.
MAX_REPLY_BYTES = 8 * 1024
# connections kept alive: per origin, and origins in all (endpoints come from browsers)
_MAX_IDLE_PER_ORIGIN = 32
_MAX_ORIGINS = 64

AddressesFor = Callable[[str, str, int], Sequence[str]]  # (url, host, port) -> addresses


class DeadlinePassed(TimeoutError):
    """The request's total deadline passed before the reply was read."""


class ReplyTooLarge(Exception):
    """The reply's status line and headers do not fit in the reply limit."""


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    headers: Message


class _BoundedRaw(io.RawIOBase):
    """The socket, read under the request's deadline and within the reply's byte budget."""

    def __init__(self, sock: socket.socket, deadline: float, budget: int) -> None:
        self._sock = sock
        self._deadline = deadline
        self.budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.budget <= 0:
            raise ReplyTooLarge
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed
        self._sock.settimeout(remaining)
        view = memoryview(buffer).cast("B")
        try:
            count = self._sock.recv_into(view[: min(len(view), self.budget)])
        except TimeoutError as exc:
            raise DeadlinePassed from exc
        self.budget -= count
        return count

    def close(self) -> None:  # the socket is the connection's, not the reply's
        super().close()


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def dropped(self) -> bool:
        """An idle kept-alive socket with something to read was closed by the peer (or sent
        what nobody asked for): either way not to be reused."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(0))


class Transport:
    """POSTs with a total deadline and a bounded reply; safe to share between threads."""

    def __init__(
        self,
        *,
        deadline_seconds: float,
        reply_limit: int = MAX_REPLY_BYTES,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if deadline_seconds <= 0:
            raise ValueError("deadline_seconds must be greater than 0")
        self.deadline_seconds = deadline_seconds
        self.reply_limit = reply_limit
        self._tls = tls or ssl.create_default_context()
        self._lock = threading.Lock()
        self._idle: OrderedDict[tuple[str, str, int], list[_Connection]] = OrderedDict()
        # name lookups run here, so that a resolver that hangs cannot outlast the deadline
        self._resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")
        self._closed = False

    def post(
        self,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        addresses_for: AddressesFor,
    ) -> Reply:
        """Send and read the reply within the deadline. Raises the destination rules' own
        refusal, DeadlinePassed, ReplyTooLarge, OSError or http.client.HTTPException."""
        deadline = time.monotonic() + self.deadline_seconds
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if scheme == "https" else 80)
        key = (scheme, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = _request_bytes(target, _host_header(host, parts.port), headers, body)
        connection = self._take(key)
        if connection is None:
            connection = self._open(url, scheme, host, port, addresses_for, deadline)
        try:
            reply, reusable = self._exchange(connection, request, deadline)
        except BaseException:
            connection.close()
            raise
        if reusable:
            self._give_back(key, connection)
        else:
            connection.close()
        return reply

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, OrderedDict()
        for connections in idle.values():
            for connection in connections:
                connection.close()
        self._resolver.shutdown(wait=False, cancel_futures=True)

    # -- connections --------------------------------------------------------------------------

    def _take(self, key: tuple[str, str, int]) -> _Connection | None:
        while True:
            with self._lock:
                pool = self._idle.get(key)
                connection = pool.pop() if pool else None
            if connection is None or not connection.dropped():
                return connection
            connection.close()

    def _give_back(self, key: tuple[str, str, int], connection: _Connection) -> None:
        evicted: list[_Connection] = []
        with self._lock:
            if self._closed:
                evicted.append(connection)
            else:
                pool = self._idle.setdefault(key, [])
                self._idle.move_to_end(key)
                if len(pool) >= _MAX_IDLE_PER_ORIGIN:
                    evicted.append(connection)
                else:
                    pool.append(connection)
                while len(self._idle) > _MAX_ORIGINS:
                    evicted.extend(self._idle.popitem(last=False)[1])
        for old in evicted:
            old.close()

    def _open(
        self,
        url: str,
        scheme: str,
        host: str,
        port: int,
        addresses_for: AddressesFor,
        deadline: float,
    ) -> _Connection:
        future = self._resolver.submit(addresses_for, url, host, port)
        try:
            addresses = future.result(timeout=max(deadline - time.monotonic(), 0.001))
        except FutureTimeout as exc:
            raise DeadlinePassed from exc
        error: OSError | None = None
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlinePassed
            try:
                sock = socket.create_connection((address, port), timeout=remaining)
            except TimeoutError as exc:
                raise DeadlinePassed from exc
            except OSError as exc:
                error = exc
                continue
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if scheme == "https":
                    sock.settimeout(max(deadline - time.monotonic(), 0.001))
                    sock = self._tls.wrap_socket(sock, server_hostname=host)
            except TimeoutError as exc:
                sock.close()
                raise DeadlinePassed from exc
            except BaseException:
                sock.close()
                raise
            return _Connection(sock)
        raise error or OSError("no address to connect to")

    def _exchange(
        self, connection: _Connection, request: bytes, deadline: float
    ) -> tuple[Reply, bool]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed
        connection.sock.settimeout(remaining)  # sendall: a total for the whole request
        try:
            connection.sock.sendall(request)
        except TimeoutError as exc:
            raise DeadlinePassed from exc
        raw = _BoundedRaw(connection.sock, deadline, self.reply_limit)
        return _read_reply(io.BufferedReader(raw, buffer_size=2048))


def _host_header(host: str, port: int | None) -> str:
    name = f"[{host}]" if ":" in host else host
    return name if port is None else f"{name}:{port}"


def _request_bytes(target: str, host: str, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    for name, value in headers.items():
        if any(ch in f"{name}{value}" for ch in "\r\n\0"):
            raise ValueError("header with a line break")
        lines.append(f"{name}: {value}")
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    except UnicodeEncodeError as exc:
        raise http.client.InvalidURL("the URL or a header is not ASCII") from exc
    return head + body  # one write: headers and body leave together


# -- the reply ---------------------------------------------------------------------------------
# Read here rather than by http.client.HTTPResponse, whose header parsing (the email package)
# was the sending threads' largest cost after the encryption (docs/performance.md, Reminders).
# Only what a sender needs: the status, the headers, and the body skipped within the budget so
# that the connection can be used again.

_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?\r?\n")


def _read_reply(reader: io.BufferedReader) -> tuple[Reply, bool]:
    """The reply on `reader` and whether its connection can carry another request. Raises
    ReplyTooLarge or DeadlinePassed (from the socket) before the headers are read whole, and
    http.client.HTTPException for what is not an HTTP/1.x reply."""
    while True:
        line = reader.readline()
        match = _STATUS_LINE.fullmatch(line)
        if match is None:
            raise http.client.BadStatusLine(repr(line[:60]))
        minor, status = match.group(1), int(match.group(2))
        reason = (match.group(3) or b"").decode("latin-1")
        headers = _read_headers(reader)
        if not 100 <= status < 200:
            break  # an interim reply (100 Continue) is followed by the real one
    connection = headers.get("Connection", "").lower()
    reusable = "close" not in connection and (minor == b"1" or "keep-alive" in connection)
    try:
        whole = _skip_body(reader, status, headers)
    except (ReplyTooLarge, DeadlinePassed):
        # the answer is in the status: a long or slow body is left unread
        whole = False
    return Reply(status, reason, headers), reusable and whole


def _read_headers(reader: io.BufferedReader) -> Message:
    headers = Message()
    while True:
        line = reader.readline()
        if line in (b"\r\n", b"\n"):
            return headers
        if not line.endswith(b"\n"):
            raise http.client.IncompleteRead(line)  # the connection closed mid-headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or not name or name != name.strip():
            raise http.client.HTTPException(f"malformed header line {line[:60]!r}")
        headers[name] = value.strip()


def _skip_body(reader: io.BufferedReader, status: int, headers: Message) -> bool:
    """Read the body past (within the budget); whether it ended where its framing says (the
    connection then stands at the next reply)."""
    if status in (204, 304):
        return True
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        while True:
            size_line = reader.readline()
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                return False
            if size == 0:
                break
            if not _skip(reader, size + 2):  # the chunk and its CRLF
                return False
        while reader.readline() not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return True
    length = headers.get("Content-Length")
    if length is None or not length.isdigit():
        while reader.read(2048):  # the body ends when the connection does
            pass
        return False
    return _skip(reader, int(length))


def _skip(reader: io.BufferedReader, count: int) -> bool:
    """Read `count` bytes past, a little at a time (a length the reply claims is no reason to
    hold that much); whether they were all there."""
    while count > 0:
        piece = reader.read(min(count, 2048))
        if not piece:
            return False
        count -= len(piece)
    return True
