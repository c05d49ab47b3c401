"""Ports for tests: a metrics port some other process already holds (the commands must say so in one line or not
need it), an address where nothing listens, a port held for a server that must be given its number, and the ports a
process started on port 0 logged."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def metrics_port_taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Bind and listen on a free 127.0.0.1 port for the block, with ``OMNIBUS_METRICS__*`` pointing at it (metrics
    enabled); yields the port as text."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = str(held.getsockname()[1])
        monkeypatch.setenv("OMNIBUS_METRICS__ENABLED", "true")
        monkeypatch.setenv("OMNIBUS_METRICS__HOST", "127.0.0.1")
        monkeypatch.setenv("OMNIBUS_METRICS__PORT", port)
        yield port


@contextmanager
def refused_url() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` where a connection is refused for the whole block: the port is bound but not
    listening (Linux answers a SYN to it with a reset), so no other process can take it meanwhile. A port drawn
    with ``free_port`` and left unbound could be taken by another test's server on a busy machine (the client then
    met a 404 instead of a refused connection)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


@contextmanager
def reserved_port() -> Iterator[int]:
    """A 127.0.0.1 port held for the block by a socket bound with ``SO_REUSEADDR`` and never listening: for a server
    that must be given its number before it starts (a client built with the address first, a restart on the same
    port), where port 0 cannot be used.

    A server that sets ``SO_REUSEADDR`` itself binds and listens on the port while it is held: aiohttp (the
    adapters), the metrics endpoint (``http.server``), Java's ``ServerSocketChannel`` (Kafka). Meanwhile no socket
    without the option can bind it, the kernel never picks it for another socket's port 0 or outgoing connection,
    and a connection to it is refused until the server listens (Linux ``socket(7)``, ``tcp(7)``); so it stays the
    server's from before its first start to after its last stop. A port drawn with ``free_port`` is not held: another
    process could bind it before the server does."""
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def logged_port(output: str, event: str) -> int | None:
    """The ``"port"`` of the first JSON line of ``output`` (a process's log) whose ``"event"`` is ``event``: where a
    process started on port 0 says which port it bound (``bus.app.PORT_CHOSEN_EVENT``, ``bus.metrics.LISTENING_EVENT``,
    ``adapters.base.http.LISTENING_EVENT``); None before that line is written. Give such a process port 0 rather than a
    port drawn free: another process can bind a drawn port before the process does."""
    ports = logged_ports(output, event)
    return ports[0] if ports else None


def logged_ports(output: str, event: str) -> list[int]:
    """The ``"port"`` of every JSON line of ``output`` whose ``"event"`` is ``event``, in order (``logged_port``): one
    per worker process of ``adapter web run --workers N``, which all write to the same output."""
    ports = []
    for line in output.splitlines():
        if not (line.startswith("{") and event in line):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == event:
            ports.append(int(record["port"]))
    return ports
