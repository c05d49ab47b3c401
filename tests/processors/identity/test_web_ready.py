"""``/ready`` reflects that the screen pop can answer (new-user finding: ``/ready`` answered 200 while every
screen pop of that worker answered 503 "partition assignment not known yet")."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from yarl import URL

from processors.identity.web import ScreenPop, Unavailable
from processors.readiness import Readiness

NODES, CHANGELOG, PARTITIONS = "identity-nodes", "omnibus-identity-nodes-changelog", 4
HOSTS = ("http://10.0.0.1:6066", "http://10.0.0.2:6066")


class FakeRouter:
    """faust's router on a worker that never wrote to the node table: ``key_store`` cannot hash (its producer has
    no partition count yet), ``table_metadata`` is the group's assignment as it arrived so far."""

    def __init__(self) -> None:
        self.assigned: dict[str, dict[str, list[int]]] = {}

    def key_store(self, table: str, key: bytes) -> URL:
        raise TypeError("unsupported operand type(s): no partition count yet")

    def table_metadata(self, table: str) -> dict[str, dict[str, list[int]]]:
        assert table == NODES
        return self.assigned


class Tables(dict):  # type: ignore[type-arg]
    """``app.tables``: faust's TableManager is a mapping with a ``recovery``."""

    def __init__(self, recovery: Any, **tables: Any) -> None:
        super().__init__(tables)
        self.recovery = recovery


@pytest.fixture
def ready_worker() -> tuple[ScreenPop, Readiness, FakeRouter]:
    """A worker that owns its partitions (recovered, no rebalance) and whose screen pop checks its owners."""
    router = FakeRouter()
    recovered = asyncio.Event()
    recovered.set()
    table = SimpleNamespace(partitions=PARTITIONS, changelog_topic=SimpleNamespace(get_topic_name=lambda: CHANGELOG))
    app: Any = SimpleNamespace(
        router=router, tables=Tables(SimpleNamespace(completed=recovered), **{NODES: table}),
        conf=SimpleNamespace(canonical_url=URL(HOSTS[0])), should_stop=False, started=True, rebalancing=False,
        in_recovery=False, consumer=SimpleNamespace(assignment=lambda: set()))
    pop = ScreenPop(SimpleNamespace(app=app, nodes=SimpleNamespace(name=NODES)))  # type: ignore[arg-type]
    return pop, Readiness(app, "identity-test", checks=[pop.owners_unknown]), router


def test_not_ready_while_a_graph_partition_has_no_known_owner_and_ready_once_every_one_has(
        ready_worker: tuple[ScreenPop, Readiness, FakeRouter]) -> None:
    pop, readiness, router = ready_worker
    keys = [f"PHONE:+3361234{n:04d}" for n in range(200)]  # enough to meet every partition
    router.assigned = {HOSTS[0]: {CHANGELOG: [0, 1]}, HOSTS[1]: {CHANGELOG: [3]}}  # partition 2: not yet
    ready, details = readiness.state()
    assert not ready and details["reason"] == "owners of graph partitions [2] not known yet"
    assert readiness.cannot_serve() == details["reason"]  # the screen pop's views answer 503 with it
    with pytest.raises(Unavailable):  # what a lookup of a key on partition 2 met while /ready said 200
        for key in keys:
            pop._owner(key)

    router.assigned = {HOSTS[0]: {CHANGELOG: [0, 1]}, HOSTS[1]: {CHANGELOG: [2, 3]}}
    ready, details = readiness.state()
    assert ready and readiness.cannot_serve() is None, details
    owners = {pop._owner(key) for key in keys}  # ready: every key's owner is found, none raises
    assert owners == {None, HOSTS[1]}  # None: this worker (HOSTS[0])
