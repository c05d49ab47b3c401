"""A registry whose port another process binds between the draw and the registry's own bind starts on another port;
one given its port says it was taken. Started again, it keeps the port its clients know."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bus.stack import registry
from bus.stack.ports import free_port
from bus.stack.registry import PORT_TAKEN_EVENT, RegistryStartError, RegistryUnavailable, SchemaRegistryServer

pytestmark = pytest.mark.registry


@contextmanager
def listening() -> Iterator[int]:
    """A port another server listens on for the block (the JVM binds with SO_REUSEADDR: only a listener stops it)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


def _start(server: SchemaRegistryServer) -> None:
    try:
        server.start()
    except RegistryUnavailable as exc:
        pytest.skip(f"schema registry unavailable on this machine: {exc}")


def test_a_port_taken_between_the_draw_and_the_bind_is_drawn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as taken:
        draws: list[int] = []

        def taken_first(host: str = "127.0.0.1") -> int:
            draws.append(taken if not draws else free_port(host))
            return draws[-1]

        monkeypatch.setattr(registry, "free_port", taken_first)
        server = SchemaRegistryServer(tmp_path / "registry", keep_data=True)
        try:
            _start(server)
            assert server.port != taken and len(draws) == 2
            port = server.port
            server.stop()
            _start(server)  # started again: the URL its clients know
            assert server.port == port and len(draws) == 2
        finally:
            server.stop()
    logged = capsys.readouterr()
    assert PORT_TAKEN_EVENT in logged.out + logged.err and str(taken) in logged.out + logged.err


def test_a_given_port_taken_before_the_bind_fails_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with listening() as taken:
        monkeypatch.setattr(registry, "is_listening", lambda port, *a, **k: False)  # taken after the check
        server = SchemaRegistryServer(tmp_path / "registry", port=taken)
        with pytest.raises(RegistryStartError, match=f"port {taken} on 127.0.0.1 was bound by another process"):
            _start(server)
    assert not server.is_running()
