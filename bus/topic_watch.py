"""A topic deleted while a process runs ends it with one line and status 75, to be started again.

At start every processor checks the topics it reads and every adapter those it publishes to (``bus.topic_check``:
``error: topic ... does not exist: run `omnibus topics apply```, status 2). Topics that vanish later (the local
broker wiped, topics deleted) were found only by a publish that failed: the handoff tracker, the offer and KPI
processors and the adapters kept running, unready never, while aiokafka logged ``Topic ... not found in cluster
metadata`` about 900 times a second (``"repeated": 26682`` in 30 s).

``watch`` asks the cluster every ``CHECK_EVERY_S`` seconds which of the process's topics it lists
(``bus.topic_check.missing_topics``, through ``bus.admin_client``). A topic the cluster answers without for
``GONE_AFTER_S`` seconds (not one answer: a broker restarting may list its topics a moment later) is gone: the
process logs it as an error and stops as SIGTERM stops it (an adapter drains and flushes, a worker commits), then
exits ``RESTART_EXIT`` with the start's line (``bus.worker_exit``, ``adapters.base.cli``): the status an orchestrator
and the run-yourself recipe start a process again on; started again, it runs if the topics were applied meanwhile, and
else ends at its start with status 2 and the same line (``bus.topic_check``), which says what to do. A cluster that
does not answer is an outage, never a missing topic: nothing is judged then. Only a process that runs one worker or
adapter stops itself (``enable_exit``); elsewhere (a test, the demo) the line is logged and the watch goes on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka.errors import KafkaError

from bus.admin_client import admin_client
from bus.config import OmnibusSettings
from bus.errors import MissingTopicError
from bus.logging import get_logger
from bus.stall_exit import WORKER_STALLED_EXIT
from bus.topic_check import missing_topics

CHECK_EVERY_S = 10.0
GONE_AFTER_S = 30.0  # answered without a topic for this long: gone, not a broker catching up on its metadata
CHECK_TIMEOUT_S = 10.0  # one check's connection and metadata request
RESTART_EXIT = WORKER_STALLED_EXIT  # 75, EX_TEMPFAIL: start again (README, the exit statuses)
log = get_logger(__name__)
_gone: list[MissingTopicError] = []  # why this process stopped itself (read when it exits)
_exit_enabled: list[bool] = []  # set by a process's entry point: it runs one worker or adapter and may stop itself


@dataclass
class VanishedTopics:
    """``observe(missing, now)``: the topics of the ``missing`` ones that have been missing in every answer for at
    least ``gone_after_s`` seconds (sorted); a topic listed again starts afresh."""

    gone_after_s: float = field(default_factory=lambda: GONE_AFTER_S)
    _since: dict[str, float] = field(default_factory=dict)

    def observe(self, missing: Iterable[str], now: float) -> list[str]:
        missing = set(missing)
        self._since = {name: since for name, since in self._since.items() if name in missing}
        for name in missing:
            self._since.setdefault(name, now)
        return sorted(name for name, since in self._since.items() if now - since >= self.gone_after_s)


def enable_exit() -> None:
    """Called by an entry point that runs one worker or adapter (``bus.app.run_worker``, the adapters' ``run``)."""
    _exit_enabled.append(True)


def gone() -> MissingTopicError | None:
    """Why ``watch`` stopped this process (None: it did not)."""
    return _gone[0] if _gone else None


def stop_for(error: MissingTopicError) -> None:
    """The last step: in a process that may stop itself (``enable_exit``) SIGTERM it, once; else nothing more."""
    if _exit_enabled and not _gone:
        _gone.append(error)
        os.kill(os.getpid(), signal.SIGTERM)


async def missing_now(settings: OmnibusSettings, names: Iterable[str]) -> list[str] | None:
    """Those of ``names`` the cluster does not list now; None when it did not answer (an outage: not judged)."""
    admin = admin_client(settings.kafka)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await admin.start()
            return await missing_topics(admin.list_topics, names)
    except (KafkaError, TimeoutError):
        return None
    finally:
        await admin.close()


async def watch(settings: OmnibusSettings, names: Iterable[str], component: str, *,
                rule: VanishedTopics | None = None, interval_s: float | None = None,
                stop: Callable[[MissingTopicError], None] = stop_for,
                report: Callable[[frozenset[str]], None] | None = None,
                clock: Callable[[], float] = time.monotonic) -> None:
    """Check ``names`` every ``interval_s`` seconds (None: ``CHECK_EVERY_S``) until cancelled (the module);
    ``stop(error)`` once they are gone (then the watch ends).

    ``report``: instead of stopping, tell it the topics gone now after every answer (an empty set once they are
    listed again) and go on watching: an HTTP adapter keeps taking what goes to its other topics and answers 503 for
    what goes to a gone one (``AdapterPublisher.refuse_topics``; a deleted offer-answers topic stopped
    the card-dispute intake of every channel). Each change is logged once, as an error while any is gone."""
    names, rule = list(names), rule or VanishedTopics()
    reported: frozenset[str] = frozenset()
    while True:
        await asyncio.sleep(CHECK_EVERY_S if interval_s is None else interval_s)
        missing = await missing_now(settings, names)
        if missing is None:
            continue
        vanished = rule.observe(missing, clock())
        if report is not None:
            gone_now = frozenset(vanished)
            if gone_now != reported:
                if gone_now:
                    log.error("a topic this process publishes to was deleted: configuration, not an outage; what goes "
                              "to it is refused with 503 until `omnibus topics apply`, the rest goes on",
                              component=component, topics=sorted(gone_now), gone_after_s=rule.gone_after_s)
                else:
                    log.info("the deleted topics are back: publishing to them again", component=component,
                             topics=sorted(reported))
                report(gone_now)
                reported = gone_now
            continue
        if vanished:
            error = MissingTopicError(vanished)
            log.error("a topic this process uses was deleted: configuration, not an outage; stopping",
                      component=component, topics=vanished, gone_after_s=rule.gone_after_s,
                      outcome="stopping" if _exit_enabled else "not stopped: no worker or adapter of its own")
            stop(error)
            return
