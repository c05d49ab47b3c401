"""A TCP proxy in front of a server (a schema registry) that a test makes hang: ``stall()`` and it accepts
connections and reads requests but never answers, as a registry behind a dead load balancer or a stuck JVM does;
``heal()`` and it forwards again. A refused connection is a different fault (``tests.support.registry``: stopped).

While stalled, new connections are accepted and read but nothing reaches the server; connections already open
stop forwarding too (a client's pooled keep-alive connection hangs as a new one would). Healing does not revive a
connection that met the stall: the client gives up on it (its read timeout) and opens a new one, forwarded.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from bus.stack.registry import SchemaRegistryServer
from tests.support.registry import stoppable_registry


@dataclass
class StallProxy:
    """Listens on 127.0.0.1 at ``port`` (a free one) and forwards to ``target`` (host, port) until ``stall``.
    ``url_of(url)``: the same URL with its port replaced by the proxy's. Threads only; ``close`` ends them."""

    target: tuple[str, int]
    stalled: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket = field(init=False)
    _sockets: list[socket.socket] = field(default_factory=list, init=False)
    _closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url_of(self, url: str) -> str:
        """``url`` (``http://host:port/path`` of the target) pointed at this proxy."""
        scheme, rest = url.split("://", 1)
        _, path = rest.split("/", 1) if "/" in rest else (rest, "")
        return f"{scheme}://127.0.0.1:{self.port}/{path}"

    def stall(self) -> None:
        """From now on accept and read, never answer."""
        self.stalled.set()

    def heal(self) -> None:
        """Forward new connections again."""
        self.stalled.clear()

    def close(self) -> None:
        self._closed = True
        for sock in [self._listener, *self._sockets]:
            with suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            if self.stalled.is_set():
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self._sockets.append(server)
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _swallow(self, client: socket.socket) -> None:
        """Read whatever the client sends, answer nothing, until it closes."""
        with suppress(OSError):
            while client.recv(65536):
                pass

    def _pipe(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        """Copy ``source`` to ``sink``; a request (``upstream``) met while stalled is dropped and the connection
        swallowed from then on."""
        with suppress(OSError):
            while data := source.recv(65536):
                if upstream and self.stalled.is_set():
                    self._swallow(source)
                    return
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@dataclass
class LoopLag:
    """How long the event loop was blocked while ``watching``: a task sleeps ``tick_s`` again and again and keeps
    the longest overshoot (``longest_s``, seconds). A step that blocks the loop for the registry client's timeout
    shows as an overshoot of about that timeout."""

    tick_s: float = 0.05
    longest_s: float = 0.0

    async def watch(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(self.tick_s)
            self.longest_s = max(self.longest_s, time.monotonic() - started - self.tick_s)


@contextmanager
def hanging_registry(directory: Path) -> Iterator[tuple[SchemaRegistryServer, StallProxy]]:
    """A real registry (``tests.support.registry.stoppable_registry``) and a ``StallProxy`` in front of it; the
    clients under test are given ``proxy.url_of(registry.url)``, the test's own set-up ``registry.url``."""
    registry = stoppable_registry(directory)
    assert registry.port is not None
    proxy = StallProxy(("127.0.0.1", registry.port))
    try:
        yield registry, proxy
    finally:
        proxy.close()
        registry.stop()
