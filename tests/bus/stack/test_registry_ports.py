"""The registry's port is held from its choice until it is ready: no other process binds it in between. One lost
anyway is replaced by another; one given that another server listens on fails the start naming it. Started again, it
keeps the port its clients know."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bus.stack.ports import PORT_TAKEN_EVENT
from bus.stack.registry import RegistryStartError, RegistryUnavailable, SchemaRegistryServer
from tests.support.ports import intruding

pytestmark = pytest.mark.registry


@contextmanager
def listening() -> Iterator[int]:
    """A port another server listens on for the block."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


def _start(server: SchemaRegistryServer) -> None:
    try:
        server.start()
    except RegistryUnavailable as exc:
        pytest.skip(f"schema registry unavailable on this machine: {exc}")


def test_a_port_lost_anyway_is_replaced_and_kept_on_a_restart_held_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = SchemaRegistryServer(tmp_path / "registry", keep_data=True)
    with intruding(monkeypatch, steal_first=True) as intruder:
        try:
            _start(server)
            taken = intruder.starts[0][0][0]
            assert len(intruder.starts) == 2 and server.port != taken
            assert intruder.starts[1] == ([server.port], [errno.EADDRINUSE])  # held until the registry bound it
            port = server.port
            server.stop()
            _start(server)  # started again: the URL its clients know, held again until it is ready
            assert server.port == port and intruder.starts[2] == ([port], [errno.EADDRINUSE])
        finally:
            server.stop()
    logged = capsys.readouterr()
    assert PORT_TAKEN_EVENT in logged.out + logged.err and str(taken) in logged.out + logged.err


def test_a_given_port_another_server_listens_on_fails_naming_it(tmp_path: Path) -> None:
    with listening() as taken:
        server = SchemaRegistryServer(tmp_path / "registry", port=taken)
        with pytest.raises(RegistryStartError, match=f"port {taken} on 127.0.0.1 is already in use"):
            _start(server)
    assert not server.is_running()
