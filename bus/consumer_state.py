"""What a faust worker's consumer is doing, for the line a watchdog logs when the worker consumes nothing (#13).

A CI run of the 60 s broker-outage fault test (``tests/faults/test_broker.py``, 2026-12-01) ended with identity
alive and consuming nothing for 4 minutes: its last line was aiokafka's "Heartbeat session expired - marking
coordinator dead", and no watchdog said a word, so nothing told whether the worker was rebalancing, restoring,
paused, without an assignment or waiting on its consumer thread. ``consumer_state`` reads that from faust's
bookkeeping and from aiokafka's (its group coordinator, its assignment and fetch positions, the queue of calls
faust hands its consumer thread: two workers run them one at a time, so one call that never returns, such as a
``position`` of a partition without a valid position, holds up every fetch and commit queued behind it).

Only topic names, partitions, offsets, counts and flags: no record content, no member or client ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

AWAIT_DEPTH = 12  # frames of one task's await chain: enough to reach aiokafka or mode from an agent


def consumer_state(app: Any) -> dict[str, Any]:
    """``{field: value}`` for a log line: faust's flags (``rebalancing``, ``in_recovery``, ``recovery_completed``,
    ``flow_active``), its partition sets (``assigned``, ``paused``, ``fetching``, ``buffered``: ``{topic:
    [partition, ...]}``), the calls waiting for faust's consumer thread (``thread_calls_queued``) and for the main
    thread (``main_calls_queued``), aiokafka's group membership (``coordinator``: node id or None, ``generation``,
    ``member``: whether it has a member id, ``rejoin_needed``), the partitions aiokafka has assigned
    (``client_assigned``) and those of them without a valid fetch position (``no_position``). Never raises: the
    fields it could not read (no consumer thread yet, another faust or aiokafka version) are named in ``unread``."""
    consumer: Any = getattr(app, "consumer", None)  # None: every field below unread
    thread: Any = getattr(consumer, "_thread", None)
    client: Any = getattr(thread, "_consumer", None)  # aiokafka's AIOKafkaConsumer, run in that thread
    coordinator: Any = getattr(client, "_coordinator", None)
    readers: dict[str, Callable[[], Any]] = {
        "rebalancing": lambda: bool(app.rebalancing),
        "in_recovery": lambda: bool(app.in_recovery),
        "recovery_completed": lambda: app.tables.recovery.completed.is_set(),
        "flow_active": lambda: bool(consumer.flow_active),
        "assigned": lambda: partition_names(consumer.assignment()),
        "paused": lambda: partition_names(consumer._paused_partitions),  # faust keeps no public view of these sets
        "fetching": lambda: partition_names(consumer._active_partitions),
        "buffered": lambda: partition_names(consumer._buffered_partitions),
        "thread_calls_queued": lambda: thread._method_queue._queue.qsize(),
        "main_calls_queued": lambda: consumer._method_queue._queue.qsize(),
        "coordinator": lambda: coordinator.coordinator_id,
        "generation": lambda: coordinator.generation,
        "member": lambda: bool(coordinator.member_id),
        "rejoin_needed": lambda: coordinator._rejoin_needed_fut.done(),
        "client_assigned": lambda: partition_names(_assignment(client).tps),
        "no_position": lambda: partition_names(tp for tp in _assignment(client).tps
                                      if not _assignment(client).state_value(tp).has_valid_position),
    }
    state: dict[str, Any] = {}
    unread = []
    for field, read in readers.items():
        try:
            state[field] = read()
        except Exception:  # noqa: BLE001 - a diagnostic never breaks the watchdog that logs it
            unread.append(field)
    if unread:
        state["unread"] = unread
    return state


def _assignment(client: Any) -> Any:
    return client._subscription.subscription.assignment  # noqa: SLF001 - aiokafka has no public view of it


def partition_names(tps: Iterable[Any]) -> dict[str, list[int]]:
    """``{topic: [partition, ...]}``, sorted: a worker holds a dozen topics of a few partitions each."""
    by_topic: dict[str, list[int]] = {}
    for tp in sorted(tps, key=lambda tp: (tp.topic, tp.partition)):
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return by_topic


def task_chains(app: Any) -> dict[str, list[str]]:
    """What every task waits on, by event loop (``main``, and ``consumer_thread``: faust's consumer thread):
    ``"task name: outer > ... > innermost"`` per task, the function names of its await chain (no locals, no
    arguments). For the line of a worker that consumes nothing: the signature of a hang (a recovery waiting on a
    step that never ends, a fetch waiting on a thread call) is which task waits where. Never raises."""
    loops = {"main": getattr(app, "loop", None),
             "consumer_thread": getattr(getattr(getattr(app, "consumer", None), "_thread", None), "thread_loop", None)}
    chains: dict[str, list[str]] = {}
    for name, loop in loops.items():
        try:
            tasks = list(asyncio.all_tasks(loop)) if loop is not None else []
        except RuntimeError:  # the other thread changed the task set meanwhile: left out this time
            tasks = []
        chains[name] = sorted(f"{task.get_name()}: {' > '.join(_await_chain(task.get_coro()))}" for task in tasks)
    return chains


def _await_chain(coro: Any) -> list[str]:
    chain: list[str] = []
    while coro is not None and len(chain) < AWAIT_DEPTH:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None) or getattr(coro, "ag_frame", None)
        if frame is None:
            break
        chain.append(frame.f_code.co_name)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None) or getattr(coro, "ag_await", None)
    return chain
