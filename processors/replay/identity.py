"""Rebuilding identity resolution's graph from its input topics, and reading the running one.

The input records are taken through the processor's own ``Intake`` and ``IdentityGraph``, run to rest
in one process by ``LocalGraph`` (the protocol's in-memory runner) after each record. Customer ids are
minted by the protocol, so the comparison is on what they mean: which identifiers belong together. Both
sides become ``{smallest identifier of a customer: sorted identifiers of that customer}``. The running
side is the ``identity-nodes`` table's changelog. Operators' releases, merges and splits (``omnibus identity
release | merge | split | unmerge``) travel on the graph topic, not on the inputs: a rebuilt graph replays them from
their announcements, in turn (``processors.replay.releases``, ``processors.replay.operators``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import msgspec
import zstandard

from bus.batch_restore import ChangelogRecord, DoneBatches, done_batches, restored_changelog
from bus.config import OmnibusSettings
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS, TopicSpec
from processors.identity.agent import COMPONENT, input_topics
from processors.identity.config import IdentitySettings
from processors.identity.graph.context import is_customer
from processors.identity.graph.customer_codec import profile_part
from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.legacy import decode_any_profile, decode_any_state
from processors.identity.graph.local import LocalGraph
from processors.identity.graph.profile_codec import decode_profile
from processors.identity.graph.state import CustomerState, NodeState
from processors.identity.intake import Intake, event_ref, raw_identifiers, ref_loader
from processors.identity.normalize import IdentifierNormalizer
from processors.identity.rules import LinkPolicy
from processors.identity.store import CONTACTS_TABLE
from processors.profile.book import ProfileBook, ProfileState
from processors.profile.sections._time import micros
from processors.replay import Progress, Replayed
from processors.replay.operators import OperatorCommand, apply_command
from processors.replay.releases import in_turn

T = TypeVar("T")

NODES_TABLE = "identity-nodes"
PROFILES_TABLE = "identity-profiles"
# What the table codecs raise on a value in none of their formats (``profile_codec.decode_profile``,
# ``contact_codec.decode_contact``, ``legacy.decode_any_state``): counted as undecodable, not fatal to a reader.
UNDECODABLE = (ValueError, msgspec.DecodeError, zstandard.ZstdError, zlib.error)
PROGRESS_EVERY = 1_000  # records between two ``progress`` calls of ``recompute``


def changelog() -> TopicSpec:
    """faust's changelog of the node table: ``<prefix>.identity-identity-nodes-changelog``."""
    return TopicSpec(f"{COMPONENT}-{NODES_TABLE}-changelog", "faust table changelog (internal)", key="node key")


def profiles_changelog() -> TopicSpec:
    """faust's changelog of the profile table (the screen pops' sections, ``agent.py``)."""
    return TopicSpec(f"{COMPONENT}-{PROFILES_TABLE}-changelog", "faust table changelog (internal)", key="customer id")


def contacts_changelog() -> TopicSpec:
    """faust's changelog of the contacts table (a customer's contact records, ``graph/split_contacts.py``)."""
    return TopicSpec(f"{COMPONENT}-{CONTACTS_TABLE}-changelog", "faust table changelog (internal)",
                     key="customer id/contact hash")


def running_profiles(records: Iterable[Replayed],
                     nodes: Iterable[Replayed] = ()) -> tuple[dict[str, ProfileState], int]:
    """(the running processor's profiles by customer id, values that did not decode), read as the owner holds them
    after a restore (``latest_by_key``: the fence, a batch without its done marker in the node changelog taken back):
    a profile its customer's node value holds (``nodes``, the node changelog's records:
    ``customer_codec.CUSTOMER_WITH_PROFILE``), else its row of the profile changelog (``records``)."""
    nodes = list(nodes)
    done = done_in(nodes)
    profiles, undecodable = latest_by_key(records, lambda value: decode_any_profile(value) or {}, done)
    held, undecodable_held = latest_by_key(nodes, _held_profile, done)
    for key, profile in held.items():
        if profile is not None:
            profiles[key] = profile
    return profiles, undecodable + undecodable_held


def _held_profile(value: bytes) -> ProfileState | None:
    """The profile a node value holds, or None (see ``customer_codec.profile_part``)."""
    part = profile_part(value)
    return None if part is None else decode_profile(part) or {}


def inputs(book: ProfileBook) -> list[TopicSpec]:
    return input_topics(book)


def clusters(nodes: Mapping[str, NodeState]) -> dict[str, list[str]]:
    """The settled customers of a node table: smallest member -> sorted members (roots only, not merged ones)."""
    found = {}
    for key, state in nodes.items():
        if is_customer(key) and isinstance(state, CustomerState) and state.created and not state.parent \
                and state.members:
            members = sorted(state.members)
            found[members[0]] = members
    return found


@dataclass
class Recomputed:
    """The graph rebuilt from the inputs by the plain logic, with what each input event brought.

    ``identifiers_of``: event id -> the normalised identifier keys it links; ``occurred_at``: event id -> when it
    occurred (epoch µs); ``refused``: input records the intake could not take (the running processor dead-letters
    them); ``contacts``: event ids of the records taken from the contact topic, in input order;
    ``not_replayed``: operators' commands the recomputation had no customer for (``operators.apply_command``).
    """

    graph: LocalGraph
    applied: int = 0
    identifiers_of: dict[str, list[str]] = field(default_factory=dict)
    occurred_at: dict[str, int] = field(default_factory=dict)
    refused: list[Replayed] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    not_replayed: list[OperatorCommand] = field(default_factory=list)


def recompute(records: Sequence[Replayed], settings: OmnibusSettings, identity: IdentitySettings,
              book: ProfileBook, commands: Iterable[OperatorCommand] = (), *,
              progress: Progress | None = None) -> Recomputed:
    """Every decoded input record through ``Intake`` and ``IdentityGraph``, run to rest after each one; each of
    the operators' ``commands`` (``operators.announced_commands``: releases, merges, splits) applied between the
    records that reached Kafka before and after its announcement (``releases.in_turn``). ``progress(done, total)``:
    records gone through of ``len(records)``, every ``PROGRESS_EVERY`` records and at the end."""
    _, deserializer = build_serde(settings.registry)
    load_event = ref_loader(deserializer)
    intake = Intake(IdentifierNormalizer(identity, settings.identifiers), book)
    result = Recomputed(LocalGraph(IdentityGraph(LinkPolicy(identity), book, load_event,
                                                 dedupe_window=identity.dedupe_window)))
    contacts = CONTACT_EVENTS.name(settings.topics)
    done = 0
    for record in in_turn(records, commands):
        if progress is not None and isinstance(record, Replayed):
            done += 1
            if done % PROGRESS_EVERY == 0:
                progress(done, len(records))
        if not isinstance(record, Replayed):
            if not apply_command(result.graph, record):
                result.not_replayed.append(record)
            continue
        event = record.event
        if event is None:
            continue
        wants_ref = record.topic == contacts or book.wants(event)
        try:
            ref = event_ref(record.topic, event, record.value or b"") if wants_ref else None
            started = intake.start(event, ref)
            accepted, _ = intake.identifiers(raw_identifiers(event, book))
        except Exception:  # what the running intake dead-letters (#13 case 5)
            result.refused.append(record)
            continue
        envelope = event.value["envelope"]
        result.identifiers_of.setdefault(envelope["event_id"], [i.key for i in accepted])
        result.occurred_at.setdefault(envelope["event_id"], micros(envelope.get("occurred_at")) or 0)
        if record.topic == contacts:
            result.contacts.append(envelope["event_id"])
        result.graph.submit(started)
        result.graph.run()
        result.applied += 1
    if progress is not None:
        progress(done, len(records))
    return result


def rebuild(records: Sequence[Replayed], settings: OmnibusSettings, identity: IdentitySettings,
            book: ProfileBook) -> tuple[dict[str, list[str]], int]:
    """(clusters of the rebuilt graph, records applied)."""
    result = recompute(records, settings, identity, book)
    return clusters(result.graph.store.nodes), result.applied


def running(records: Iterable[Replayed]) -> tuple[dict[str, list[str]], int]:
    """(clusters of the running graph from the changelog, values that did not decode as node states)."""
    nodes, undecodable = running_nodes(records)
    return clusters(nodes), undecodable


def running_nodes(records: Iterable[Replayed]) -> tuple[dict[str, NodeState], int]:
    """(the running graph's node states by key from the changelog, values that did not decode as node states).

    The changelog is read as its owner holds it after a restore (``latest_by_key``): a late write of a worker that
    had lost the partition is skipped (``bus.fencing.ChangelogFence``), a batch without its done marker taken back.
    """
    records = list(records)
    return latest_by_key(records, decode_any_state, done_in(records))


def latest_by_key(records: Iterable[Replayed], decode: Callable[[bytes], T],
                  done: DoneBatches) -> tuple[dict[str, T], int]:
    """One of identity's changelogs (``records``: its records, raw, in offset order per partition) as its owner holds
    it after a restore (``bus.batch_restore.restored_changelog``): the last decoded value per key, a tombstone removing
    its key, read through the fence, and a batch without its done marker in ``done`` (``done_in``: the node
    changelog's markers) taken back; with how many values did not decode."""
    undecodable = 0

    def count(_record: ChangelogRecord, _error: Exception) -> None:
        nonlocal undecodable
        undecodable += 1

    table = restored_changelog((ChangelogRecord(r.partition, r.offset, r.key, r.value, r.headers) for r in records),
                               done, decode, count, UNDECODABLE)
    return {key.decode(): value for key, value in table.items()}, undecodable


def done_in(nodes: Iterable[Replayed]) -> DoneBatches:
    """The done markers of identity's batches in the node changelog's records (``nodes``, raw, in offset order per
    partition: ``bus.batch_restore.done_batches``)."""
    return done_batches(ChangelogRecord(r.partition, r.offset, r.key, r.value, r.headers) for r in nodes)
