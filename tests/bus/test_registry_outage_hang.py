"""A real schema registry that hangs (accepts connections, never answers) under the shared registry paths, then heals.

A refusing registry fails a look-up at once; a hanging one only after the client's timeout
(``RegistrySettings.timeout_s``). A look-up made on the event loop then blocks every other task of the process for
that long: faust's heartbeats (a worker's session timeout is 10 s, ``bus.takeover``), ``/live``, the other agents.
Before, a decode's first look-up did so once, and a step that must run on the loop (a follower's reader, the graph
handler, the announcer) did so on each retry, for the whole hang. Now every round trip is made in a thread
(``bus.registry_outage.lookups_off_loop``): the loop is never blocked, nothing is dead-lettered or lost, and each
step runs again once the registry heals. An adapter's encode fails within the timeout (it answers 503).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from bus import registry_outage
from bus.config import RegistrySettings
from bus.consume import RecordDecoder
from bus.errors import RawRecord, SchemaRegistryError
from bus.producer import EventProducer, Outgoing, worker_producer
from bus.serde import Event, SerdeContext, build_serde
from tests.bus.test_consume import Letters
from tests.support.samples import identifiers_observed
from tests.support.settings import isolated_settings
from tests.support.stall_proxy import LoopLag, StallProxy, hanging_registry

pytestmark = [pytest.mark.registry, pytest.mark.timeout(600)]
TOPIC = "omnibus.identity.observed.v1"
TIMEOUT_S = 4.0  # the clients' registry timeout here (the default is 10 s)
BLOCKED_S = TIMEOUT_S / 2  # a loop blocked this long waited for the registry (a busy machine lags well under it)


@pytest.fixture(scope="module")
def hung(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, StallProxy]]:
    """(the registry's own URL, for the set-up; the proxy the clients under test are pointed at)."""
    with hanging_registry(tmp_path_factory.mktemp("registry")) as (registry, proxy):
        yield registry.url, proxy


def _settings(url: str, proxy: StallProxy) -> RegistrySettings:
    return RegistrySettings(url=proxy.url_of(url), timeout_s=TIMEOUT_S)


def _written(url: str, number: str) -> tuple[Event, bytes]:
    """An event and its record written through the registry itself (its schema registered, its id unknown to the
    clients under test)."""
    serializer, _ = build_serde(RegistrySettings(url=url))
    event = identifiers_observed(number)
    return event, serializer(event, SerdeContext(topic=TOPIC))


async def _until_outage(within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not registry_outage.OUTAGE.ongoing():
        assert time.monotonic() < deadline, "no registry outage was seen"
        await asyncio.sleep(0.1)


async def test_a_decode_met_by_a_hanging_registry_blocks_no_other_task_and_answers_once_it_heals(
        hung: tuple[str, StallProxy]) -> None:
    url, proxy = hung
    event, value = _written(url, "+8613800000001")
    _, fresh = build_serde(_settings(url, proxy))  # a worker started since: the id is not cached
    letters = Letters()
    decoder = RecordDecoder(fresh, letters)  # type: ignore[arg-type]
    lag = LoopLag()
    watching = asyncio.create_task(lag.watch())
    proxy.stall()
    try:
        decoding = asyncio.create_task(decoder.decode(RawRecord(value=value, topic=TOPIC, partition=0, offset=0)))
        await _until_outage(TIMEOUT_S + 10)  # the first look-up timed out: /ready says so
        await asyncio.sleep(2 * TIMEOUT_S)  # its retries meet the hang too
        assert not decoding.done() and letters.errors == []
        assert lag.longest_s < BLOCKED_S, f"the event loop was blocked {lag.longest_s:.1f} s"
    finally:
        proxy.heal()
    assert await asyncio.wait_for(decoding, timeout=60) == event
    assert letters.errors == [] and not registry_outage.OUTAGE.ongoing()
    watching.cancel()


async def test_a_step_on_the_loop_is_not_run_again_while_the_registry_hangs_and_blocks_nothing(
        hung: tuple[str, StallProxy]) -> None:
    """A follower's reader, the graph handler, the announcer: steps that touch the worker's state run on the loop;
    the schema they need is fetched in a thread, and the step runs again only once it is there."""
    url, proxy = hung
    event, value = _written(url, "+8613800000002")
    _, fresh = build_serde(_settings(url, proxy))
    runs: list[Event] = []

    def step() -> Event:  # stands for a reader that changes the worker's state with what it decoded
        decoded = fresh(value, SerdeContext(topic=TOPIC))
        runs.append(decoded)
        return decoded

    lag = LoopLag()
    watching = asyncio.create_task(lag.watch())
    proxy.stall()
    try:
        stepping = asyncio.create_task(registry_outage.until_registry_answers(step))
        await _until_outage(TIMEOUT_S + 10)
        await asyncio.sleep(3 * TIMEOUT_S)
        assert not stepping.done() and runs == []
        assert lag.longest_s < BLOCKED_S, f"the event loop was blocked {lag.longest_s:.1f} s"
    finally:
        proxy.heal()
    assert await asyncio.wait_for(stepping, timeout=60) == event
    assert runs == [event] and not registry_outage.OUTAGE.ongoing()
    watching.cancel()


async def test_an_adapter_s_encode_fails_within_the_timeout_and_a_processor_s_waits_until_it_heals(
        hung: tuple[str, StallProxy]) -> None:
    url, proxy = hung
    event = identifiers_observed("+8613800000003")
    settings = isolated_settings("127.0.0.1:9", registry={"url": proxy.url_of(url), "timeout_s": TIMEOUT_S})
    adapter = EventProducer(settings, build_serde(settings.registry)[0])
    waiting = worker_producer(settings, build_serde(settings.registry)[0])
    lag = LoopLag()
    watching = asyncio.create_task(lag.watch())
    proxy.stall()
    try:
        started = time.monotonic()
        with pytest.raises(SchemaRegistryError) as raised:  # the adapter answers 503 with Retry-After on this
            await adapter.encode(Outgoing(TOPIC, "k-1", event))
        assert raised.value.retriable and time.monotonic() - started < TIMEOUT_S + 5
        encoding = asyncio.create_task(waiting.encode(Outgoing(TOPIC, "k-1", event)))
        await _until_outage(TIMEOUT_S + 10)
        await asyncio.sleep(TIMEOUT_S)
        assert not encoding.done()  # nothing to produce yet
        assert lag.longest_s < BLOCKED_S, f"the event loop was blocked {lag.longest_s:.1f} s"
    finally:
        proxy.heal()
    record = await asyncio.wait_for(encoding, timeout=60)
    _, reader = build_serde(RegistrySettings(url=url))
    assert record.value is not None and reader(record.value, SerdeContext(topic=TOPIC)) == event
    assert not registry_outage.OUTAGE.ongoing()
    watching.cancel()
