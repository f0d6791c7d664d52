"""A tiny real HTTP/1.1 server on an ephemeral loopback port, for misbehaving on purpose.

Each test gives it an ``answer(request, connection)`` function that writes whatever
bytes it likes (trickles, truncations, bombs), so the client under test meets the
fault on a real socket. Requests and connections are recorded.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Answer to one request; return False to close the connection afterwards.
Answer = Callable[["Received", socket.socket], bool]


@dataclass(frozen=True)
class Received:
    request_line: str
    headers: dict[str, str]
    body: bytes


def ok(body: bytes = b"{}", *extra_headers: str) -> bytes:
    """A complete 200 response with a JSON body."""
    head = [
        "HTTP/1.1 200 OK",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *extra_headers,
    ]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


class LoopbackServer:
    def __init__(
        self,
        answer: Answer,
        tls: ssl.SSLContext | None = None,
        raw: Callable[[socket.socket], object] | None = None,
    ) -> None:
        self.answer = answer
        self.tls = tls
        self.raw = raw
        self.received: list[Received] = []
        self.connections = 0
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/"

    def close(self) -> None:
        self.stopping.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            if self.raw:  # speaks first, before any request (or TLS handshake) is read
                self.raw(connection)
                return
            if self.tls:
                connection = self.tls.wrap_socket(connection, server_side=True)
            reader = connection.makefile("rb")
            while not self.stopping.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                self.received.append(request)
                if not self.answer(request, connection):
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            connection.close()


def _read_request(reader: object) -> Received | None:
    request_line = reader.readline().decode("latin-1").strip()  # type: ignore[attr-defined]
    if not request_line:
        return None
    headers: dict[str, str] = {}
    while line := reader.readline().decode("latin-1").strip():  # type: ignore[attr-defined]
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = reader.read(length) if length else b""  # type: ignore[attr-defined]
    return Received(request_line, headers, body)


@contextmanager
def serving(
    answer: Answer,
    tls: ssl.SSLContext | None = None,
    raw: Callable[[socket.socket], object] | None = None,
) -> Iterator[LoopbackServer]:
    server = LoopbackServer(answer, tls, raw)
    try:
        yield server
    finally:
        server.close()
