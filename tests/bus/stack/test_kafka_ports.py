"""A broker whose port another process binds between the draw and the broker's own bind starts on other ports; one
given its ports says which was taken. Ready means this broker's cluster answers, not any broker on the port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bus.stack import kafka
from bus.stack.kafka import PORT_TAKEN_EVENT, KafkaBroker, KafkaStartError, wait_for_metadata
from bus.stack.ports import distinct_free_ports
from tests.support.ports import reserved_port

pytestmark = pytest.mark.kafka


@contextmanager
def listening() -> Iterator[int]:
    """A port another server listens on for the block (the JVM binds with SO_REUSEADDR: only a listener stops it)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


def test_a_port_taken_between_the_draw_and_the_bind_is_drawn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as taken:
        draws: list[list[int]] = []

        def taken_first(count: int) -> list[int]:  # the first draw returns a port that is taken by the bind
            drawn = distinct_free_ports(count)
            if not draws:
                drawn[0] = taken
            draws.append(drawn)
            return drawn

        monkeypatch.setattr(kafka, "distinct_free_ports", taken_first)
        broker = KafkaBroker(tmp_path / "broker", heap="256m")
        try:
            broker.start()
            assert broker.port != taken and len(draws) == 2
            assert wait_for_metadata(broker.bootstrap_servers)["cluster_id"] == broker.cluster_id
            port = broker.port
            broker.stop()
            broker.start()  # started again: the address its clients know
            assert broker.port == port
        finally:
            broker.stop()
    logged = capsys.readouterr()
    assert PORT_TAKEN_EVENT in logged.out + logged.err and str(taken) in logged.out + logged.err


def test_a_given_port_taken_before_the_bind_fails_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with reserved_port() as controller, listening() as taken:  # the controller's port held: only ``taken`` clashes
        monkeypatch.setattr(kafka, "is_listening", lambda port, *a, **k: False)  # taken after the check
        broker = KafkaBroker(tmp_path / "broker", port=taken, controller_port=controller, heap="256m")
        with pytest.raises(KafkaStartError, match=f"port {taken} or {controller} on 127.0.0.1 was bound by another"):
            broker.start()
    assert not broker.is_running()
