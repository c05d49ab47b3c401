"""The consumer's state a watchdog logs when a worker consumes nothing (CI, 2026-12-01: identity consumed nothing for
4 minutes after a 60 s broker outage and no line said what its consumer was doing)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka import TopicPartition

from bus.app import create_app
from bus.consumer_state import consumer_state, task_chains
from tests.support.settings import isolated_settings


def _queue(size: int) -> SimpleNamespace:
    return SimpleNamespace(_queue=SimpleNamespace(qsize=lambda: size))


def test_it_reads_faust_and_aiokafka_state_as_names_flags_and_counts() -> None:
    fetching, waiting = TopicPartition("contact.events", 0), TopicPartition("contact.events", 1)
    positions = {fetching: True, waiting: False}
    assignment = SimpleNamespace(tps={fetching, waiting},
                                 state_value=lambda tp: SimpleNamespace(has_valid_position=positions[tp]))
    coordinator = SimpleNamespace(coordinator_id=1, generation=4, member_id="omnibus.identity-1c0f",
                                  _rejoin_needed_fut=SimpleNamespace(done=lambda: False))
    client = SimpleNamespace(_coordinator=coordinator,
                             _subscription=SimpleNamespace(subscription=SimpleNamespace(assignment=assignment)))
    consumer = SimpleNamespace(flow_active=True, assignment=lambda: {fetching, waiting}, _paused_partitions={waiting},
                               _active_partitions={fetching}, _buffered_partitions=set(), _method_queue=_queue(0),
                               _thread=SimpleNamespace(_method_queue=_queue(3), _consumer=client))
    app = SimpleNamespace(consumer=consumer, rebalancing=False, in_recovery=False,
                          tables=SimpleNamespace(recovery=SimpleNamespace(completed=SimpleNamespace(is_set=lambda: True))))
    assert consumer_state(app) == {
        "rebalancing": False, "in_recovery": False, "recovery_completed": True, "flow_active": True,
        "assigned": {"contact.events": [0, 1]}, "paused": {"contact.events": [1]},
        "fetching": {"contact.events": [0]}, "buffered": {}, "thread_calls_queued": 3, "main_calls_queued": 0,
        "coordinator": 1, "generation": 4, "member": True, "rejoin_needed": False,
        "client_assigned": {"contact.events": [0, 1]}, "no_position": {"contact.events": [1]}}


def test_a_worker_not_started_yet_gives_what_it_has_and_names_the_rest() -> None:
    app = create_app("identity", isolated_settings("127.0.0.1:9"))  # never started: no consumer thread, no broker
    state = consumer_state(app)
    assert state["rebalancing"] is False and state["recovery_completed"] is False
    assert {"coordinator", "generation", "client_assigned", "no_position"} <= set(state["unread"])
    assert consumer_state(object()) == {"unread": [  # not a faust app at all: nothing read, nothing raised
        "rebalancing", "in_recovery", "recovery_completed", "flow_active", "assigned", "paused", "fetching", "buffered",
        "thread_calls_queued", "main_calls_queued", "coordinator", "generation", "member", "rejoin_needed",
        "client_assigned", "no_position"]}


async def test_task_chains_name_what_each_task_waits_on_in_the_main_loop_and_the_consumer_thread() -> None:
    restored = asyncio.Event()

    async def wait_until_recovery_completed() -> None:
        await restored.wait()

    async def on_started() -> None:
        await wait_until_recovery_completed()

    waiting = asyncio.create_task(on_started(), name="Task-6")
    await asyncio.sleep(0)
    app = SimpleNamespace(loop=asyncio.get_running_loop(), consumer=SimpleNamespace(_thread=None))
    try:
        chains = task_chains(app)
    finally:
        restored.set()
        await waiting
    assert "Task-6: on_started > wait_until_recovery_completed > wait" in chains["main"]
    assert chains["consumer_thread"] == []  # no consumer thread: nothing, and no error
