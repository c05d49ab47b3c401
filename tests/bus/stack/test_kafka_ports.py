"""The broker's ports are held from their choice until it is ready: no other process binds one in between. One lost
anyway (a process that read the number before it was held) is replaced by another; one given that another server
listens on fails the start naming it. Ready means this broker's cluster answers, not any broker on the port."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bus.stack.kafka import KafkaBroker, KafkaStartError, wait_for_metadata
from bus.stack.ports import PORT_TAKEN_EVENT
from tests.support.ports import intruding, reserved_port

pytestmark = pytest.mark.kafka


@contextmanager
def listening() -> Iterator[int]:
    """A port another server listens on for the block."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


def test_no_other_process_binds_a_port_between_its_choice_and_the_broker_bind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = KafkaBroker(tmp_path / "broker", heap="256m")
    with intruding(monkeypatch) as intruder:
        try:
            broker.start()
            assert intruder.starts == [([broker.port, broker.controller_port], [errno.EADDRINUSE] * 2)]
            assert wait_for_metadata(broker.bootstrap_servers)["cluster_id"] == broker.cluster_id
            port = broker.port
            broker.stop()
            broker.start()  # started again: the address its clients know, held again until it is ready
            assert broker.port == port and len(intruder.starts) == 2 and intruder.starts[1][1] == [errno.EADDRINUSE] * 2
        finally:
            broker.stop()
    logged = capsys.readouterr()
    assert PORT_TAKEN_EVENT not in logged.out + logged.err


def test_a_port_lost_anyway_is_replaced_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = KafkaBroker(tmp_path / "broker", heap="256m")
    with intruding(monkeypatch, steal_first=True) as intruder:
        try:
            broker.start()
            taken = intruder.starts[0][0][0]
            assert len(intruder.starts) == 2 and broker.port != taken
            assert wait_for_metadata(broker.bootstrap_servers)["cluster_id"] == broker.cluster_id
        finally:
            broker.stop()
    logged = capsys.readouterr()
    assert PORT_TAKEN_EVENT in logged.out + logged.err and str(taken) in logged.out + logged.err


def test_a_given_port_lost_before_the_bind_fails_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with reserved_port() as given, intruding(monkeypatch, steal_first=True):
        broker = KafkaBroker(tmp_path / "broker", port=given, heap="256m")
        with pytest.raises(KafkaStartError, match=f"port {given} or [0-9]+ on 127.0.0.1 was bound by another"):
            broker.start()
    assert not broker.is_running()


def test_a_given_port_another_server_listens_on_fails_naming_it(tmp_path: Path) -> None:
    with listening() as taken:
        broker = KafkaBroker(tmp_path / "broker", port=taken, heap="256m")
        with pytest.raises(KafkaStartError, match=f"port {taken} on 127.0.0.1 is already in use"):
            broker.start()
    assert not broker.is_running()
