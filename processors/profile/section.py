"""The screen-pop extension point: one ``ProfileSection`` per part of the customer profile.

A section says which events feed it (``topics`` and ``schemas``), how to find the customer an event is
about (``identifiers``), and how one event changes its per-customer state (``apply``). The identity
processor resolves the identifiers to a customer id, keeps each section's state per customer in a
changelog-backed table, merges states when customers merge, and renders them in the screen pop.

A section of another processor is a subclass in that processor's package plus ONE ``register(...)``
line in ``processors/profile/registry.py``. Example::

    class OpenHandoffs(ProfileSection):
        name = "open_handoffs"
        topics = (HANDOFF_EVENTS,)
        schemas = frozenset({"omnibus.handoff.HandoffCreated", "omnibus.handoff.HandoffClosed"})

        def identifiers(self, event):
            return list(event.value.get("customer_identifiers") or [])

        def apply(self, state, event):
            state = dict(state or {})
            if event.schema == "omnibus.handoff.HandoffCreated":
                state[event.value["handoff_id"]] = {"case_type": event.value["case_type"]}
            else:
                state.pop(event.value["handoff_id"], None)
            return state

Rules for a state: it must be JSON-serialisable (dict/list/str/int/float/bool/None; convert datetimes,
e.g. to ISO text or epoch microseconds), bounded whatever the customer's history (it travels in the
changelog on every change and inside merge messages: a count limit in ``ProfileLimits``, every text cut by
``limits.short_text``, see ``processors/profile/limits.py``), and ``apply`` must be pure and idempotent:
the same event may be applied twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from bus.topics import TopicSpec
from processors.profile.limits import ProfileLimits

SectionState = dict[str, Any]


class ProfileSection(ABC):
    """One part of the customer profile, fed by the events named in ``schemas``."""

    name: ClassVar[str]  # key in the profile JSON, e.g. "open_handoffs"
    topics: ClassVar[tuple[TopicSpec, ...]]  # bus.topics specs whose events feed this section
    schemas: ClassVar[frozenset[str]]  # Avro full names of the events it reads (others are ignored)
    # Whether an event it reads must name a customer (one with no identifier is unplaced: ``intake.py``) and is a
    # contact on the screen pop (``CustomerState.contacts``). False for a section fed on the side of events identity
    # places anyway (the name, from ``IdentifiersObserved``), which reads only those it ``wants``.
    places: ClassVar[bool] = True
    # Whether its entries are what an event told of its person (the name): identity feeds it only an event the matcher
    # takes as this customer's person (not one whose traits it refuses here), and a claim, which moves an identifier to
    # the customer of its earliest event whatever the traits, never takes an entry along (``ProfileBook``).
    personal: ClassVar[bool] = False
    # JSON Schema of what ``render`` returns: the section's part of the screen pop's contract (identity's
    # ``/openapi.json``, ``processors/identity/openapi.py``), built with ``processors.profile.shapes``. The default,
    # ``{}``, is any JSON; a section of this repository declares its shape (``tests/processors/identity/test_openapi``).
    render_schema: ClassVar[dict[str, Any]] = {}

    # The deployment's ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``, in which a section compares account numbers as
    # identity keys them (``processors.profile.about.account_number``); ``ProfileBook`` sets its own on every section.
    account_format: NumberFormat | None = None

    def __init__(self, limits: ProfileLimits | None = None) -> None:
        self.limits = limits if limits is not None else ProfileLimits()

    @abstractmethod
    def identifiers(self, event: Event) -> list[dict[str, str]]:
        """Raw identifiers ({"type": "PHONE", "value": "..."} as in omnibus.common.Identifier) that locate
        the customer this event is about."""

    @abstractmethod
    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        """Pure: the section's new state for one customer after `event` (must be idempotent for a replayed event)."""

    def render(self, state: dict[str, Any]) -> Any:
        """JSON-able view for the screen pop (default: the state); called with ``{}`` for a customer this
        section knows nothing about yet: an empty list is ``[]``, never null."""
        return state

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        """The state after customer ``merged`` was folded into ``survivor`` (pure).

        Default: a deep union. Keys present on one side only are kept; where both sides hold a mapping
        the union recurses; where both hold lists they are concatenated without repeats; any other
        clash keeps the survivor's value. This suits states keyed by entity id (handoff id, offer id,
        subscription id); override it when order or counting matters.
        """
        return deep_union(survivor, merged)

    def split(self, state: dict[str, Any] | None,
              leaving: Sequence[Event]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """An operator's split (pure): ``(what the source keeps, what the new customer takes)`` when the events
        ``leaving`` (the contacts that follow the moved identifiers, ``graph/split_contacts.py``) leave ``state``.

        Default: the source keeps everything (a section keyed by another entity: a product, a handoff, an offer).
        A section fed by contacts overrides it to hand over what those events put there.
        """
        return state, None

    def wants(self, event: Event) -> bool:
        """Whether ``event`` (of one of ``schemas``) changes this section; identity carries the record of an event to
        its customer only if some section wants it (default: every event it reads)."""
        return True

    def entries(self, event: Event) -> list[str]:
        """The keys of the entries ``event`` feeds in this section's state, for a section whose entries an operator's
        split divides by the identifiers they came through (``ProfileBook``: ``via``); default none (not divided).
        A key must name the same entry ``holds`` and ``part`` name."""
        return []

    def holds(self, state: dict[str, Any]) -> set[str]:
        """The keys (as ``entries`` names them) of the entries ``state`` still holds (default: none)."""
        return set()

    def part(self, state: dict[str, Any] | None,
             going: set[str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """An operator's split (pure): ``(what the source keeps, what the new customer takes)`` when the entries
        ``going`` (keys as ``entries`` names them) follow the moved identifiers. Default: the source keeps all."""
        return state, None

    def before(self, state: dict[str, Any] | None, entry: str, since: int) -> bool:
        """Whether entry ``entry`` (as ``entries`` names it) holds a fact that occurred before ``since`` (epoch µs): it
        stays with the previous holder at a recycle's claim (``ProfileBook.split``'s ``since``). Default: no time."""
        return False

    def accepts(self, event: Event) -> bool:
        return event.schema in self.schemas


def deep_union(survivor: Any, merged: Any) -> Any:
    if survivor is None:
        return merged
    if merged is None:
        return survivor
    if isinstance(survivor, dict) and isinstance(merged, dict):
        result = dict(survivor)
        for key, value in merged.items():
            result[key] = deep_union(result[key], value) if key in result else value
        return result
    if isinstance(survivor, list) and isinstance(merged, list):
        return survivor + [item for item in merged if item not in survivor]
    return survivor
