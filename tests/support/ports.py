"""Ports for tests: a metrics port some other process already holds (the commands must say so in one line or not
need it), an address where nothing listens, a port held for a server that must be given its number, another process
trying to take a server's ports before it binds them, and the ports a process started on port 0 logged."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from bus.stack import ports as ports_module
from bus.stack.ports import HOST, held_ports


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
    """A 127.0.0.1 port held for the block (``bus.stack.ports.held_ports``): for a server that must be given its
    number before it starts (a client built with the address first, a restart on the same port), where port 0 cannot
    be used. A server that sets ``SO_REUSEADDR`` (aiohttp, the metrics endpoint, Kafka) binds and listens on it
    meanwhile; nothing else can take it, so it stays the server's from before its first start to after its last
    stop. A port drawn with ``free_port`` is not held: another process could bind it before the server does."""
    with held_ports([None]) as (port,):
        yield port


@contextmanager
def stack_port_options() -> Iterator[list[str]]:
    """``omnibus stack up`` options naming a Kafka, a controller and a registry port, each a ``reserved_port`` for
    the block: a test's stack never takes the fixed defaults (another test's, or the developer's own stack), and keeps
    its ports from its first ``up`` through every ``down``/``up`` and crash of the test."""
    with reserved_port() as kafka, reserved_port() as controller, reserved_port() as registry:
        yield ["--port", str(kafka), "--controller-port", str(controller), "--registry-port", str(registry)]


@dataclass
class Intruder:
    """What another process met on the ports of each start ``intruding`` watched, in order: per start, the held
    ports and the ``errno`` of its plain bind of each (0: it bound the port, the race the hold prevents)."""

    starts: list[tuple[list[int], list[int]]] = field(default_factory=list)

    @property
    def ports(self) -> list[int]:
        return [port for held, _ in self.starts for port in held]


@contextmanager
def intruding(monkeypatch: pytest.MonkeyPatch, *, steal_first: bool = False) -> Iterator[Intruder]:
    """Another process between the choice of a server's ports and the server's own bind, on every start
    (``bus.stack.ports.held_ports``, which every start of the broker, the registry, PostgreSQL and Prometheus goes
    through): it binds each port without ``SO_REUSEADDR`` and listens, as most servers do. With ``steal_first`` it
    also takes the first port of the first start the one way a held port can still be lost, bound with
    ``SO_REUSEADDR`` and listening before the server (a process that read the number before it was held), kept until
    the block ends."""
    intruder, original, stolen = Intruder(), ports_module.held_ports, []

    @contextmanager
    def watched(wanted: Sequence[int | None], host: str = HOST) -> Iterator[list[int]]:
        with original(wanted, host) as held:
            intruder.starts.append((held, [_plain_bind(host, port) for port in held]))
            if steal_first and len(intruder.starts) == 1:
                thief = socket.socket()
                thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                thief.bind((host, held[0]))
                thief.listen()
                stolen.append(thief)
            yield held

    monkeypatch.setattr(ports_module, "held_ports", watched)
    try:
        yield intruder
    finally:
        for thief in stolen:
            thief.close()


def _plain_bind(host: str, port: int) -> int:
    """0 when a socket without ``SO_REUSEADDR`` binds and listens on ``port`` (closed again at once), else the
    ``errno`` of its failure."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
            sock.listen()
        except OSError as exc:
            return exc.errno or -1
    return 0


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
