"""The last contacts of a customer on every channel (call center, web hall, branch counters...).

State: ``{channel: [entry, ...]}``, newest first, at most ``ProfileLimits.recent_contacts_per_channel``
entries per channel, each text at most ``limits.MAX_TEXT_CHARS`` characters (a track's name may be 32 KB:
the state must stay far below Kafka's 1 MiB record limit whatever the events carry, #13). An entry is
keyed by the contact's id within its channel, so the channel-specific event about a contact
(``CallCompleted``, ``CounterTransaction``) and its ``InteractionRecorded`` fill one entry, and a replayed
event changes nothing.

A contact may come in several versions (an updated CTR: docs/subscribers.md "Versions of one contact"); the entry
shows the latest by the versions' own order (``bus.contact_versions.version_order``: the source's version, a CTR's
``LastUpdateTimestamp``, then when it occurred, then when it was received), whatever order their events are applied or
merged in, and whichever adapter replica received which (issue #8 F13: an update's RESOLVED went back to UNKNOWN when
the graph applied the first version after it; an older version received last at another adapter replica showed
its disposition). An entry keeps which version it shows as ``version``: ``[received µs, CRC-32 of the version]`` and,
where the source states one, its source version (µs) third; a few bytes (#9). An entry kept before the source version
was ranks as source version 0.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, ClassVar

from bus import contact_versions
from bus.serde import Event
from bus.topics import CONTACT_EVENTS, TopicSpec
from processors.profile.limits import short_key, short_texts
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, occurred_micros
from processors.profile.shapes import TEXT, TIME, closed, list_of, nullable

NS = "omnibus.contact."
HIDDEN = frozenset({"at", "version"})  # kept in the state, not shown
# The field of each contact schema that names the contact (its entry's id: ``contact_id``).
ID_FIELDS = {"InteractionRecorded": "interaction_id", "CallCompleted": "contact_id",
             "CounterTransaction": "transaction_id"}


def _entry(event: Event) -> tuple[str, dict[str, Any]]:
    value, kind = event.value, event.schema.removeprefix(NS)
    common = {"at": occurred_micros(event), "site": value["envelope"].get("site")}
    if kind == "InteractionRecorded":
        return value[ID_FIELDS[kind]], {
            **common, "kind": value["kind"], "name": value.get("name"), "outcome": value["outcome"],
            "agent_id": value.get("agent_id"), "duration_ms": value.get("duration_ms"),
            "disposition": (value.get("properties") or {}).get("disposition"),  # the agent's wrap-up code
        }
    if kind == "CallCompleted":
        return value[ID_FIELDS[kind]], {
            # named by its queue, as the call's InteractionRecorded names it: one name whichever comes first
            **common, "kind": "CALL", "name": value.get("queue"), "agent_id": value.get("agent_id"),
            "duration_ms": value["talk_ms"], "abandoned": value["abandoned"], "queue": value.get("queue"),
            "disposition": value.get("disposition"),
        }
    return value[ID_FIELDS["CounterTransaction"]], {
        **common, "kind": "COUNTER_TRANSACTION", "name": value["transaction_type"], "outcome": value["status"],
        "agent_id": value.get("agent_id"),
    }


def _bounded_entry(event: Event) -> tuple[str, dict[str, Any]]:
    contact_id, fields = _entry(event)
    return short_key(contact_id), short_texts(fields)


def version(event: Event) -> str:
    """Which version of its contact an event is of: its source system and ``source_event_id`` (a report's events
    share it; events without one are one version). Versions are ordered by ``version_order``."""
    envelope = event.value["envelope"]
    return f"{envelope['source_system']}/{envelope.get('source_event_id') or ''}"


def version_order(event: Event) -> tuple[int, int]:
    """(occurred, received) in epoch µs (``bus.contact_versions.version_order`` without the source version): the
    order identity's versions node (``processors.identity.graph.versions``) keeps a contact's versions in."""
    return contact_versions.version_order(event)[1:]


def _mark(event: Event) -> list[int]:
    """What an entry keeps of the version it shows (``version``): when it was received, a digest of its id, and its
    source version where the source states one."""
    source, _, received = contact_versions.version_order(event)
    return [received, zlib.crc32(version(event).encode()), *([source] if source else [])]


def _rank(entry: dict[str, Any]) -> tuple[int, int, int, int]:
    """The order of the version an entry shows (``bus.contact_versions.version_order``, then the digest); an entry
    written before versions were kept is one version."""
    received, digest, *source = entry.get("version", (0, 0))
    return (source[0] if source else 0), entry["at"], received, digest


def _other_version(entry: dict[str, Any], other: dict[str, Any]) -> bool:
    return "version" in entry and "version" in other and entry["version"][1] != other["version"][1]


def contact_id(event: Event) -> str:
    """The id a contact event's entry has on the screen pop (``recent_contacts[].id``): what an operator names to
    move it (``omnibus identity move-contact``)."""
    return short_key(event.value[ID_FIELDS[event.schema.removeprefix(NS)]])


class RecentContactsSection(ProfileSection):
    name: ClassVar[str] = "recent_contacts"
    topics: ClassVar[tuple[TopicSpec, ...]] = (CONTACT_EVENTS,)
    schemas: ClassVar[frozenset[str]] = frozenset(
        NS + name for name in ("InteractionRecorded", "CallCompleted", "CounterTransaction")
    )
    render_schema: ClassVar[dict[str, Any]] = list_of(closed({
        "id": {**TEXT, "description": "The contact id: what `omnibus identity move-contact` names."},
        "channel": TEXT, "occurred_at": TIME, "kind": TEXT, "site": nullable(TEXT), "name": nullable(TEXT),
        "outcome": nullable(TEXT), "agent_id": nullable(TEXT), "duration_ms": nullable({"type": "integer"}),
        "disposition": nullable(TEXT), "abandoned": nullable({"type": "boolean"}), "queue": nullable(TEXT),
    }, required=["id", "channel", "occurred_at", "kind"]), "Every kept contact, newest first, across channels.")

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        value = event.value
        return list(value.get("customer_identifiers") or value.get("caller_identifiers") or [])

    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        state = dict(state or {})
        channel = event.value["envelope"]["channel"]
        contact_id, fields = _bounded_entry(event)
        fields["version"] = _mark(event)
        entries = list(state.get(channel, []))  # the entries stay shared with ``state``: only the one changed is copied
        for index, entry in enumerate(entries):
            if entry["id"] == contact_id:
                if _other_version(entry, fields):
                    if _rank(fields) > _rank(entry):  # a newer version: what it says replaces the older one's
                        entries[index] = {"id": contact_id, **fields}
                    break  # an older version than the one shown changes nothing
                entry = entries[index] = dict(entry)
                # The generic InteractionRecorded wins for what the contact was; others only fill gaps.
                primary = event.schema == NS + "InteractionRecorded"
                for key, value in fields.items():
                    if value is not None and (primary or entry.get(key) is None) and key != "version":
                        entry[key] = value
                break
        else:
            entries.append({"id": contact_id, **fields})
        entries.sort(key=lambda e: (e["at"], e["id"]), reverse=True)
        state[channel] = entries[:self.limits.recent_contacts_per_channel]
        return state

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        if survivor is None or merged is None:
            return survivor if merged is None else merged
        result = {}
        for channel in sorted(set(survivor) | set(merged)):
            by_id = {e["id"]: e for e in merged.get(channel, [])}
            for entry in survivor.get(channel, []):  # the survivor's entry, unless the other shows a newer version
                other = by_id.get(entry["id"])
                if other is None or not _other_version(entry, other) or _rank(entry) > _rank(other):
                    by_id[entry["id"]] = entry
            entries = sorted(by_id.values(), key=lambda e: (e["at"], e["id"]), reverse=True)
            result[channel] = entries[:self.limits.recent_contacts_per_channel]
        return result

    def split(self, state: dict[str, Any] | None,
              leaving: Sequence[Event]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The entries of the contacts ``leaving`` (by channel and contact id, as ``apply`` keys them) go to the new
        customer as they are; the others stay. An entry the limit dropped already goes nowhere."""
        gone = {(event.value["envelope"]["channel"], _bounded_entry(event)[0]) for event in leaving
                if self.accepts(event)}
        if not state or not gone:
            return state, None
        kept: dict[str, Any] = {}
        moved: dict[str, Any] = {}
        for channel, entries in state.items():
            for entry in entries:
                side = moved if (channel, entry["id"]) in gone else kept
                side.setdefault(channel, []).append(entry)
        return kept, moved or None

    def render(self, state: dict[str, Any]) -> Any:
        """Every kept contact, newest first, across channels."""
        entries = [{**e, "channel": channel} for channel, items in state.items() for e in items]
        entries.sort(key=lambda e: (e["at"], e["id"]), reverse=True)
        return [{**{k: v for k, v in e.items() if k not in HIDDEN}, "occurred_at": iso(e["at"])} for e in entries]
