"""The one path every start of the broker, the registry, PostgreSQL and Prometheus takes: its ports are held from their
choice until the server is ready, and a start that lost one anyway starts again on others when all were left to it.
The server here is a socket that binds with ``SO_REUSEADDR`` and listens, as those four do."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from structlog.testing import capture_logs

from bus.logging import get_logger
from bus.stack import ports as stack_ports
from bus.stack.ports import PORT_RETRIES, PORT_TAKEN_EVENT, PortTaken, held_ports, start_on_held_ports
from tests.support.ports import intruding


@contextmanager
def listening() -> Iterator[int]:
    """A port another server listens on for the block."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


class Server:
    """Binds each port it is given with ``SO_REUSEADDR`` and listens, as the JVM, PostgreSQL and Go do; ``PortTaken``
    when one is in use (the server's own "address already in use" exit)."""

    def __init__(self) -> None:
        self.sockets = ExitStack()
        self.starts: list[list[int]] = []

    def start(self, ports: list[int]) -> list[int]:
        self.starts.append(ports)
        for port in ports:
            sock = self.sockets.enter_context(socket.socket())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                self.sockets.close()
                raise PortTaken(f"Address already in use: {port}") from exc
            sock.listen()
        return ports


def test_no_other_process_binds_a_port_between_its_choice_and_the_server_bind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = Server()
    with intruding(monkeypatch) as intruder, server.sockets:
        ports = start_on_held_ports([None, None, None], server.start, server="server")
        assert len(set(ports)) == 3 and server.starts == [ports]
        assert intruder.starts == [(ports, [errno.EADDRINUSE] * 3)]
        for port in ports:  # the server listens on the ports held for it
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert PORT_TAKEN_EVENT not in capsys.readouterr().out


def test_a_held_port_is_refused_until_the_server_listens_and_released_after() -> None:
    with held_ports([None]) as (port,):
        with socket.socket() as early, pytest.raises(ConnectionRefusedError):
            early.connect(("127.0.0.1", port))
    with socket.socket() as after:
        after.bind(("127.0.0.1", port))


def test_a_port_lost_anyway_is_started_again_on_others_and_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    # the module's logger made inside capture_logs: where its lines go otherwise depends on the tests run before
    monkeypatch.setattr(stack_ports, "log", get_logger(stack_ports.__name__))
    server = Server()
    with capture_logs() as logs, intruding(monkeypatch, steal_first=True) as intruder, server.sockets:
        ports = start_on_held_ports([None, None], server.start, server="server")
        stolen = intruder.starts[0][0]
        assert len(server.starts) == 2 and ports == server.starts[1] and stolen[0] not in ports
    (line,) = [entry for entry in logs if entry["event"] == PORT_TAKEN_EVENT]
    assert stolen[0] in line["ports"]


def test_a_server_that_loses_every_start_fails_naming_its_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    def always_lost(ports: list[int]) -> None:
        raise PortTaken(f"Address already in use: {ports[0]}")

    with intruding(monkeypatch) as intruder, pytest.raises(PortTaken, match=f"{PORT_RETRIES} starts"):
        start_on_held_ports([None], always_lost, server="server")
    assert len(intruder.starts) == PORT_RETRIES


def test_a_given_port_lost_is_not_replaced_by_another(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server()
    with held_ports([None]) as (given,), intruding(monkeypatch, steal_first=True) as intruder, server.sockets:
        with pytest.raises(
            PortTaken,
            match=f"port {given} or [0-9]+ on 127.0.0.1 was bound by another process "
            "before the server bound it: pick another",
        ):
            start_on_held_ports([given, None], server.start, server="server")
    assert len(intruder.starts) == 1 and intruder.starts[0][0][0] == given


def test_a_given_port_a_server_listens_on_fails_at_once_naming_it() -> None:
    with listening() as taken, pytest.raises(PortTaken, match=f"port {taken} on 127.0.0.1 is already in use"):
        start_on_held_ports([taken], Server().start, server="server")


def test_a_failure_that_is_not_a_lost_port_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ports: list[int]) -> None:
        raise RuntimeError("the server's configuration is wrong")

    with intruding(monkeypatch) as intruder, pytest.raises(RuntimeError, match="configuration is wrong"):
        start_on_held_ports([None], broken, server="server")
    assert len(intruder.starts) == 1
