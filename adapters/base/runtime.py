"""Wiring an adapter to the bus: serde, idempotent producer, dead letters, dedupe, metrics endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.base.config import AdapterSettings, dedupe_file
from adapters.base.dedupe import DedupeStore
from adapters.base.dedupe_target import with_target_dedupe_file
from adapters.base.import_target import current_target
from adapters.base.outage_log import ENDED_MESSAGE, IMPORT_ENDED_MESSAGE, IMPORT_MESSAGE, MESSAGE
from adapters.base.publisher import AdapterPublisher
from bus import shutdown, topic_watch
from bus.bootstrap import serve_metrics_or_exit
from bus.config import OmnibusSettings
from bus.dead_letter import DeadLetterWriter
from bus.dead_letter_clear import ClearCopy
from bus.heartbeat import Heartbeat
from bus.identifiers import IdentifierNormaliser
from bus.identifiers.kinds import SECRET_TYPES
from bus.identifiers.protect import SecretScrubber
from bus.identifiers.settings import HMAC_KEY_VARIABLE, MIN_KEY_CHARS
from bus.logging import get_logger, logged_as
from bus.producer import EventProducer
from bus.references import References
from bus.serde import build_serde

if TYPE_CHECKING:
    from bus.sealing import Sealer
from bus.topics import (
    CONTACT_EVENTS,
    DEAD_LETTERS,
    HANDOFF_EVENTS,
    IDENTIFIERS_OBSERVED,
    MARKETING_RESPONSES,
    TopicSpec,
)

log = get_logger(__name__)
# What a channel adapter (web, call center, branch) publishes to; every adapter also writes DEAD_LETTERS.
CHANNEL_TOPICS = (CONTACT_EVENTS, IDENTIFIERS_OBSERVED, HANDOFF_EVENTS, MARKETING_RESPONSES)


def adapter_component(name: str) -> str:
    """The adapter called ``name`` (``web``) as a component in metrics, dead letters and probes: ``adapter.web``."""
    return f"adapter.{name}"


def unacknowledged(producer: EventProducer) -> int:
    """Records ``producer`` holds that Kafka has not acknowledged: still in its shared batches or in aiokafka's
    (``bus.producer_batches``, ``bus.shutdown.aiokafka_unacknowledged``)."""
    client = producer._client  # noqa: SLF001 - read only, by the stop deadline
    batches = producer._batches  # noqa: SLF001
    queued = sum(batch.builder.record_count() for queue in list(batches._queues.values())  # noqa: SLF001
                 for batch in list(queue)) if batches is not None else 0
    return queued + (shutdown.aiokafka_unacknowledged(client) if client is not None else 0)


def sealer(settings: OmnibusSettings, component: str = "", *, importing: bool = False) -> Sealer | None:
    """What seals a refused body into its dead letter (``bus.sealing``): with ``OMNIBUS_DEAD_LETTERS__SEAL_KEY``, else
    None (the body is kept only as the dead letter's clear copy, ``bus.dead_letter_clear``, and cannot be re-driven),
    said once at start by a warning naming ``component``, the variable and what to set it to (``to_do``): an operator
    learnt it only when a refused customer request could not be re-driven; with the key, one info line says sealing is
    on (a rollout can be checked). ``importing`` (``import-batch``): None, said nothing, as a file's line is never
    sealed (``bus.dead_letter``)."""
    key = settings.dead_letters.seal_key
    if importing:  # a file's refused line is corrected in its file and imported again, never re-driven: none is sealed
        return None
    if key is None:
        from bus.sealing import MIN_SEAL_KEY_CHARS, SEAL_KEY_VARIABLE

        log.warning("refused input will not be re-drivable: its dead letters keep no sealed body", component=component,
                    setting=SEAL_KEY_VARIABLE,
                    to_do=f"set {SEAL_KEY_VARIABLE} to a random secret of at least {MIN_SEAL_KEY_CHARS} characters, "
                    "the same on every adapter and wherever omnibus deadletters redrive runs (docs/integrating.md)")
        return None
    from bus.sealing import Sealer

    log.info("refused input is kept sealed for re-drive", component=component)
    return Sealer(key.get_secret_value())


def warn_without_token_key(settings: OmnibusSettings, component: str = "") -> bool:
    """At an adapter's start: without a token key (``IdentifierSettings.token_key``: ``OMNIBUS_IDENTIFIERS__HMAC_KEY``,
    else identity's) every national ID and card number it receives is dropped (answered ``dropped_identifiers`` code
    ``no-token-key``, never published raw), said once by a warning naming ``component``, the variable and what to set
    it to (a tester learnt it from the first refused national ID). Returns whether it warned; no value is logged."""
    if settings.identifiers.token_key() is not None:
        return False
    log.warning("national IDs and card numbers will be dropped, never published: no token key to tokenise them",
                component=component, setting=HMAC_KEY_VARIABLE, kinds=sorted(SECRET_TYPES),
                to_do=f"set {HMAC_KEY_VARIABLE} to a secret of at least {MIN_KEY_CHARS} characters, the same in every "
                "adapter and in identity (README: Pointing Omnibus at your cluster)")
    return True


@dataclass(frozen=True)
class AdapterRuntime:
    name: str
    settings: OmnibusSettings
    adapter_settings: AdapterSettings
    publisher: AdapterPublisher
    producer: EventProducer

    def topic(self, spec: TopicSpec) -> str:
        return spec.name(self.settings.topics)


def published_topics(settings: OmnibusSettings, publishes: Sequence[TopicSpec] = CHANNEL_TOPICS) -> list[str]:
    """The names of the topics an adapter publishing to ``publishes`` writes to: those and ``DEAD_LETTERS``, under
    ``settings``' prefix. ``adapter_runtime`` checks them at start; an import checks them before making its state
    folder (``adapters.base.import_target.current_target``)."""
    return [spec.name(settings.topics) for spec in (*publishes, DEAD_LETTERS)]


@asynccontextmanager
async def adapter_runtime(
    name: str, settings: OmnibusSettings, adapter_settings: AdapterSettings, heartbeat: Heartbeat | None = None,
    *, metrics: bool = True, importing: bool = False, publishes: Sequence[TopicSpec] = CHANNEL_TOPICS,
    per_target_dedupe: bool = False, answers_senders: bool = False,
) -> AsyncIterator[AdapterRuntime]:
    """Start the producer and dedupe store; on exit flush everything accepted, then close. ``heartbeat``: served as
    ``/live`` on the metrics port (an adapter with no HTTP server of its own: the legacy relay).

    ``publishes``: the topics the adapter publishes to (``DEAD_LETTERS`` too, always). Raises ``MissingTopicError``
    (a command: status 2, ``topic ... does not exist: run `omnibus topics apply```) when the broker's metadata does
    not list one of them, before anything is published (a missing topic waited as for an outage); a
    long-running adapter (not ``importing``) watches them while it runs (``bus.topic_watch``): one deleted then stops
    the legacy relay and pollers (their command exits 75 with the line a missing topic gets at start), while an
    HTTP adapter (``answers_senders``) answers 503 for the records bound for it and goes on taking the rest.

    ``metrics``: serve ``/metrics`` on ``OMNIBUS_METRICS__PORT``; a port that cannot be bound exits 2 with one line
    (``bus.bootstrap.serve_metrics_or_exit``). A one-shot command (``import-batch``, ``import-cdr`` without
    ``--follow``) passes ``False``: it ends before any scrape would see it, and a fixed port would make a nightly
    import beside a running adapter, or two overlapping imports, fail; its counts are its summary lines.

    ``per_target_dedupe``: an HTTP adapter's dedupe file is the one of the Kafka cluster and topic prefix it publishes
    to (``adapters.base.dedupe_target``), resolved once the topics are found.

    ``importing``: a command importing files (``import-batch``, ``import-cdr``), which has no sender to answer 503:
    a publish waits for Kafka up to ``producer.give_up_after_s`` (the producer retries with backoff meanwhile),
    not the ``publish_timeout_s`` an HTTP sender is answered within, and the outage warning says the import waits
    (a 10 s broker outage ended a nightly import with a traceback)."""
    component = adapter_component(name)
    # Its lines name it, and so do those of the tasks started here (its producer's, the topic watch) and of the server
    # started on it (``adapters.base.http.serving``): the demo runs every adapter in one process.
    with logged_as(component):
        metrics_server = (serve_metrics_or_exit(settings.metrics, heartbeat, component=component)
                          if metrics else None)  # first: nothing to undo
        if not importing:  # a long-running adapter; an import's summary names the setting of an ID it dropped
            warn_without_token_key(settings, component)
        serializer, _ = build_serde(settings.registry)
        producer = EventProducer(settings, serializer)
        await producer.start(wait_for_broker=False)  # no broker at start-up: status 69, not a silent wait
    shutdown.track("unacknowledged_events", lambda: unacknowledged(producer))
    dedupe: DedupeStore | None = None
    watching: asyncio.Task[None] | None = None
    try:
        with logged_as(component):
            await producer.require_topics(published_topics(settings, publishes))
            # Only now: a missing topic (a mistyped prefix) leaves no dedupe file behind.
            if per_target_dedupe:  # the file of the cluster and prefix it publishes to
                adapter_settings = with_target_dedupe_file(name, adapter_settings, await current_target(settings))
            dedupe_path = dedupe_file(name, adapter_settings)
            dedupe = DedupeStore(dedupe_path, adapter_settings.dedupe_window_s)
            log.info("adapter dedupe store", adapter=name,
                     path=str(dedupe_path) if dedupe_path else "memory (lost on restart)")
            # Refused input is kept as its clear copy: national IDs and cards as tokens, phones and e-mails masked, free
            # text scrubbed (``bus.dead_letter_clear``); as it came only sealed.
            scrubber = SecretScrubber(IdentifierNormaliser(settings.identifiers, component=component))
            dead_letters = DeadLetterWriter(producer, DEAD_LETTERS.name(settings.topics), component=component,
                                            clear=ClearCopy(scrubber, References.deployment(settings.identifiers)),
                                            sealer=sealer(settings, component, importing=importing))
            publisher = AdapterPublisher(
                name, producer, dedupe, dead_letters,
                retry_after_s=adapter_settings.retry_after_s,
                publish_timeout_s=(settings.producer.give_up_after_s if importing
                                   else adapter_settings.publish_timeout_s),
                outage_message=IMPORT_MESSAGE if importing else MESSAGE,
                outage_ended_message=IMPORT_ENDED_MESSAGE if importing else ENDED_MESSAGE,
            )
            if not importing:  # an import's publish finds a deleted topic itself
                # an HTTP adapter refuses only what goes to a deleted topic; the relay and pollers stop (status 75)
                report = publisher.refuse_topics if answers_senders else None
                watching = asyncio.create_task(topic_watch.watch(settings, published_topics(settings, publishes), name,
                                                                 report=report))
        yield AdapterRuntime(name, settings, adapter_settings, publisher, producer)
    finally:
        with logged_as(component):
            if watching is not None:
                watching.cancel()
            await producer.stop()
            if dedupe is not None:
                dedupe.close()
            if metrics_server is not None:
                metrics_server.stop()
