"""The components whose refused input ``redrive --new-id`` maps again (``processors.deadletters.new_id.Reissue``).

Composed here, at the top (``omnibus.cli.Composition.reissues``), so the dead-letter plumbing never imports an
adapter; an adapter's own settings
(``OMNIBUS_ADAPTER_<NAME>__*``) are read as the adapter reads them, so a message maps as it would have been mapped.
"""

from __future__ import annotations

from bus.config import OmnibusSettings, load_component_settings
from bus.producer import Outgoing
from bus.serde import Deserializer, Event, SerdeContext
from processors.deadletters import DeadLetter
from processors.deadletters.new_id import REFUSED_AT_INGRESS, NotReissued, Reissue, Reissued


def web_reissue(settings: OmnibusSettings) -> Reissue:
    """The web hall's: ``adapters.web.reissue`` with ``OMNIBUS_ADAPTER_WEB__*``. Raises ``bus.errors.ConfigError``
    on a bad setting."""
    from adapters.base.errors import RejectedInput
    from adapters.web.config import ENV_PREFIX, WebSettings
    from adapters.web.mapper import SegmentMapper
    from adapters.web.reissue import REISSUED_CODES, NotReissuable, reissued
    from bus.sealing import Sealer
    from processors.deadletters.sealed import NotResubmitted, value_as_sent

    mapper = SegmentMapper(load_component_settings(WebSettings, ENV_PREFIX), settings.topics, settings.identifiers)
    key = settings.dead_letters.seal_key
    sealer = None if key is None else Sealer(key.get_secret_value())

    def reissue(letter: DeadLetter) -> Reissued:
        f = letter.fields
        headers = {h["key"]: bytes(h["value"]).decode("utf-8", "replace")
                   for h in f.get("headers") or () if h["value"] is not None}
        code = str(f["error_type"])[len(REFUSED_AT_INGRESS):]
        try:  # the message as it came: the dead letter's clear copy has its identifiers masked
            new_ids, record = reissued(code, value_as_sent(letter, sealer), headers, f["failed_at"], mapper)
        except NotResubmitted as exc:
            raise NotReissued(str(exc)) from exc
        except NotReissuable as exc:
            raise NotReissued(str(exc)) from exc
        except RejectedInput as exc:
            raise NotReissued(f"the web hall refuses the message again ({exc.code}: {exc.reason})") from exc
        return Reissued(new_ids, record.events)

    return Reissue(REISSUED_CODES, reissue)


def creation_reissue(settings: OmnibusSettings, deserializer: Deserializer | None = None) -> Reissue:
    """The handoff tracker's: a web service request's ``HandoffCreated`` it refused as ``duplicate_creation``, decoded
    by ``deserializer`` (default: the registry's, built at the first letter) and opened under the case id the web
    hall's ``--new-id`` gives it (``adapters.web.reissue_creation``), on the topic it was read from."""
    from adapters.web.reissue_creation import NotReissuable, reissued_creation
    from bus.errors import DeserializationError
    from processors.deadletters import deserializer_for
    from processors.handoffs.outputs import CREATED
    from processors.handoffs.tracker import REFUSED_AS
    from processors.handoffs.transitions import DUPLICATE_CREATION

    decode: list[Deserializer] = [deserializer] if deserializer is not None else []

    def reissue(letter: DeadLetter) -> Reissued:
        f = letter.fields
        if not decode:
            decode.append(deserializer_for(settings))
        topic = str(f["source_topic"])
        try:
            event = decode[0](bytes(f["value"]), SerdeContext(topic=topic, partition=f.get("source_partition"),
                                                              offset=f.get("source_offset")))
        except DeserializationError as exc:
            raise NotReissued(f"the dead letter's record cannot be decoded: {exc}") from exc
        if event.schema != CREATED:
            raise NotReissued(f"the dead letter's record is a {event.schema}, not a HandoffCreated")
        try:
            new_ids, value = reissued_creation(event.value)
        except NotReissuable as exc:
            raise NotReissued(str(exc)) from exc
        return Reissued(new_ids, (Outgoing(topic, new_ids["handoff_id"], Event(CREATED, value)),))

    return Reissue(frozenset({DUPLICATE_CREATION}), reissue, prefix=REFUSED_AS, from_topic=True)


def reissues(settings: OmnibusSettings) -> dict[str, Reissue]:
    """Component name (a dead letter's ``source_component``) -> its ``Reissue``."""
    from adapters.base.runtime import adapter_component
    from adapters.web.ingress import NAME as WEB
    from processors.handoffs.tracker import COMPONENT as HANDOFFS

    return {adapter_component(WEB): web_reissue(settings), HANDOFFS: creation_reissue(settings)}
