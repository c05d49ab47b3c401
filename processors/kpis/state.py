"""Typed state of the KPI processor's entities, as kept in its changelog-backed table (JSON-able dicts).

An entity is what one KPI fact depends on: an interaction or offer event (counted once), a call (its
latest report), a customer (their recent contacts, for repeat contact and first-contact resolution),
a handoff (its cycles, breaches and closures). Besides its facts, every entity keeps the contributions
it made to the window counters (``"<window key>#<measure>" -> n``), so the processor can apply the
difference when the entity changes: that is how late events and revised calls update their windows,
and why a redelivered event (its id already applied) changes nothing.

Instants are microseconds since the epoch. Table keys: ``e:<event id>``, ``call:<source>:<contact id>``,
``cust:<customer id>``, ``h:<handoff id>``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

APPLIED_IDS_KEPT = 32  # recent event ids per call or handoff, for dedupe of re-deliveries

Contributions = dict[str, int]  # "<window key>#<measure>" -> count


def contribution_key(window_key: str, measure: str) -> str:
    return f"{window_key}#{measure}"


def split_contribution(key: str) -> tuple[str, str]:
    window_key, _, measure = key.rpartition("#")
    return window_key, measure


@dataclass(frozen=True, slots=True)
class Entity:
    kind: ClassVar[str]
    contributions: Contributions = field(default_factory=dict)
    partition: int = 0  # input partition whose records change it (its table changelog partition)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["kind"] = self.kind
        return data

    def with_(self, **changes: Any) -> Any:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class OneShot(Entity):
    """An event counted once (OfferPresented, OfferResponded), or the newest version read of a contact
    (InteractionRecorded) or of a representative's pitch (``rules.version_update``)."""

    kind: ClassVar[str] = "one-shot"
    at_us: int = 0
    received_us: int = 0  # a version's envelope received_at (us); 0 for the others
    source_version_us: int = 0  # a version's source version (``bus.contact_versions.version_order``), else 0

    @property
    def version(self) -> tuple[int, int, int]:
        return self.source_version_us, self.at_us, self.received_us


@dataclass(frozen=True, slots=True)
class CallFacts(Entity):
    """The latest report (CallCompleted version) of one call."""

    kind: ClassVar[str] = "call"
    site: str = ""
    at_us: int = 0  # when the call entered the queue (or started, if never queued)
    queued: bool = False
    answered: bool = False
    wait_to_answer_ms: int | None = None
    abandoned: bool = False
    stamped_threshold_ms: int | None = None
    applied: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**Entity.to_dict(self), "applied": list(self.applied)}


@dataclass(frozen=True, slots=True)
class CustomerContact:
    """One contact of a customer, as its newest version read says: ``contact`` the contact it is a version of
    (``bus.contact_versions.contact_key``; "" when kept before it was, or an event naming none: then its event id
    names it) and ``version`` that version's order (``bus.contact_versions.version_order``, µs)."""

    event_id: str
    at_us: int
    channel: str
    site: str
    outcome: str
    contact: str = ""
    version: tuple[int, int, int] = (0, 0, 0)

    def to_list(self) -> list[Any]:
        return [self.event_id, self.at_us, self.channel, self.site, self.outcome, self.contact, list(self.version)]

    @classmethod
    def from_list(cls, raw: list[Any]) -> CustomerContact:
        """From ``to_list``'s list, or the five fields kept before the contact and version were."""
        if len(raw) > 6:
            source, occurred, received = raw[6]
            return cls(str(raw[0]), int(raw[1]), str(raw[2]), str(raw[3]), str(raw[4]), str(raw[5]),
                       (int(source), int(occurred), int(received)))
        return cls(str(raw[0]), int(raw[1]), str(raw[2]), str(raw[3]), str(raw[4]))

    @property
    def identity(self) -> str:
        """What two versions of one contact share: its contact, else its event id."""
        return self.contact or self.event_id

    @property
    def order(self) -> tuple[int, str]:
        return self.at_us, self.event_id


Release = tuple[str, int, str]  # (contact event id, instant µs, customer it moved to; "" when kept before it was)


def release_of(raw: list[Any] | tuple[Any, ...]) -> Release:
    """A ``CustomerHistory.released`` entry from its list; one kept before its customer was (two items) names ""."""
    return str(raw[0]), int(raw[1]), str(raw[2]) if len(raw) > 2 else ""


@dataclass(frozen=True, slots=True)
class CustomerHistory(Entity):
    """One customer's contacts on every channel, in time order (kept for the horizon plus the repeat window)."""

    kind: ClassVar[str] = "customer"
    contacts: tuple[CustomerContact, ...] = ()
    merged_into: str | None = None  # set when identity merged this customer into another: contacts move there
    # contacts a split or a ``ContactMoved`` moved to another customer (``Release``): taken off ``contacts`` and
    # ignored if they arrive (again, or late), but never at the customer they moved to; kept for the horizon plus the
    # repeat window, like contacts.
    released: tuple[Release, ...] = ()
    # customers merged into this one (and those merged into them): a release naming one of them is no release here
    absorbed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**Entity.to_dict(self), "contacts": [c.to_list() for c in self.contacts],
                "released": [list(item) for item in self.released], "absorbed": list(self.absorbed)}


@dataclass(frozen=True, slots=True)
class Cycle:
    """From creation (or a reopening) to the first resolution or closure after it."""

    start_us: int
    resolved_us: int | None = None
    closed_us: int | None = None

    @property
    def end_us(self) -> int | None:
        ends = [t for t in (self.resolved_us, self.closed_us) if t is not None]
        return min(ends) if ends else None

    def to_list(self) -> list[Any]:
        return [self.start_us, self.resolved_us, self.closed_us]

    @classmethod
    def from_list(cls, raw: list[Any]) -> Cycle:
        return cls(int(raw[0]), raw[1], raw[2])


@dataclass(frozen=True, slots=True)
class HandoffFacts(Entity):
    kind: ClassVar[str] = "handoff"
    channel: str = ""
    site: str = ""
    created_us: int | None = None
    cycles: tuple[Cycle, ...] = ()
    breaches_us: tuple[int, ...] = ()
    applied: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**Entity.to_dict(self), "cycles": [c.to_list() for c in self.cycles],
                "breaches_us": list(self.breaches_us), "applied": list(self.applied)}


KINDS: dict[str, type[Entity]] = {cls.kind: cls for cls in (OneShot, CallFacts, CustomerHistory, HandoffFacts)}


def from_dict(data: dict[str, Any]) -> Entity:
    cls = KINDS[data["kind"]]
    values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
    if "applied" in values:
        values["applied"] = tuple(values["applied"])
    if cls is CustomerHistory:
        values["contacts"] = tuple(CustomerContact.from_list(c) for c in data["contacts"])
        values["released"] = tuple(release_of(item) for item in data.get("released") or ())
        values["absorbed"] = tuple(str(customer) for customer in data.get("absorbed") or ())
    if cls is HandoffFacts:
        values["cycles"] = tuple(Cycle.from_list(c) for c in data["cycles"])
        values["breaches_us"] = tuple(data["breaches_us"])
    return cls(**values)


def remember(applied: tuple[str, ...], event_id: str) -> tuple[str, ...]:
    return (*applied, event_id)[-APPLIED_IDS_KEPT:]
