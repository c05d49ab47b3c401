"""All sections of one customer's profile together: apply an event, merge two customers, render.

The profile of a customer is ``{section name: section state}``. ``ProfileBook`` is pure: the identity
processor stores the profile per customer in a table and calls it.

**Entries follow an operator's split by the identifiers they came through** (#8 point 7). Beside the sections,
``profile[VIA]`` is ``{section name: {entry key: identifier digests}}``: for a section divided by identifiers
(``ProfileSection.entries``: products by account, subscription, order, bill; open handoffs by handoff id; the name by
observation), the digests (``via_key``) of the identifier keys (``TYPE:value``) every event that fed the entry
carried (``apply``'s ``carried``; a business event's its account alone, ``about.py``), kept only for entries the
section still holds. At a split (``split``) an entry
``follows`` the moved identifiers when it came through at least one of them and through none that the source keeps;
the rest stays, as contacts do (``processors/identity/graph/split_contacts.py``). An entry fed through more than
``VIA_KEYS_PER_ENTRY`` identifiers, or with no record of them (applied before this record existed), stays with the
source: nothing tells whose it is. An entry an event that told its person fed (its traits: a joint account's holder's
own line with her name and birth date) is marked ``TOLD`` and stays at a claim (``split``'s ``claim``): the matcher
placed it by them, as a contact that told its person stays (``split_contacts.hand_over``).
Contacts are divided by their own record (``split``'s ``leaving``), offers by the offer processor
(``processors/offers/profile_section.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from bus.topics import TopicSpec
from processors.profile import about as account_rule
from processors.profile.limits import ProfileLimits, load_profile_limits
from processors.profile.section import ProfileSection

if TYPE_CHECKING:
    from bus.identifiers.settings import IdentifierSettings

ProfileState = dict[str, Any]
Via = dict[str, dict[str, list[str]]]  # section name -> entry key -> identifier keys it came through

VIA = "_via"  # profile key of the identifiers record (not a section: never rendered)
VIA_KEYS_PER_ENTRY = 4  # identifier keys kept per entry (bounded, #13); past it the entry is ``UNSURE``
UNSURE = "*"  # came through too many identifiers to tell: stays with the source at a split
TOLD = "+"  # fed by an event that told its person (traits): stays at a claim; not an identifier, not counted


def follows(ids: Collection[str], moved: Collection[str], held: Collection[str]) -> bool:
    """Whether what came through the identifier keys ``ids`` follows a split moving ``moved`` while the source keeps
    ``held``: at least one moved, none kept (and not ``UNSURE``). The one rule for contacts and entries (#8 point 7)."""
    ids = set(ids)
    return UNSURE not in ids and not ids.isdisjoint(moved) and ids.isdisjoint(held)


def via_key(key: str) -> str:
    """How ``VIA`` records an identifier key: a 64-bit BLAKE2b digest (16 hex characters). Small whatever the
    identifier (the profile stays bounded, #13) and no identifier value in the profile's record of them."""
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _with_keys(known: list[str] | None, digests: Iterable[str], told: bool = False) -> list[str]:
    keys = {*(known or ()), *digests}
    mark = [TOLD] if told or TOLD in keys else []
    keys.discard(TOLD)
    if UNSURE in keys or len(keys) > VIA_KEYS_PER_ENTRY:
        return [UNSURE, *mark]
    return [*sorted(keys), *mark]


class ProfileBook:
    """``sections`` together; ``account_format``: the deployment's ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``,
    in which account numbers are compared (``about``, ``account_number``) as identity keys them."""

    def __init__(self, sections: Iterable[ProfileSection], account_format: NumberFormat | None = None) -> None:
        self.sections: Sequence[ProfileSection] = tuple(sections)
        self.account_format = account_format
        for section in self.sections:  # the products section keys accounts in it (papercuts3)
            section.account_format = account_format
        self._by_schema: dict[str, list[ProfileSection]] = {}
        for section in self.sections:
            for schema in section.schemas:
                self._by_schema.setdefault(schema, []).append(section)
        # ``reads`` is asked up to three times per contact event (intake, the customer's apply, versions)
        self._placed = frozenset(schema for schema, sections in self._by_schema.items()
                                 if any(section.places for section in sections))

    @classmethod
    def from_registry(cls, limits: ProfileLimits | None = None,
                      identifiers: IdentifierSettings | None = None) -> ProfileBook:
        """Every registered section, bounded by ``limits`` (default: ``OMNIBUS_PROCESSOR_PROFILE__*``, so a
        worker and the verifier's recomputation keep the same history), account numbers compared in the account
        number format of ``identifiers`` (default: ``OMNIBUS_IDENTIFIERS__*``, as identity normalises them); raises
        ``ConfigError`` on a bad setting."""
        from bus.identifiers.normaliser import load_identifier_settings
        from processors.profile.registry import SECTIONS

        limits = limits if limits is not None else load_profile_limits()
        identifiers = identifiers if identifiers is not None else load_identifier_settings()
        return cls((section_cls(limits) for section_cls in SECTIONS), identifiers.account_number_format)

    def account_number(self, value: str) -> str:
        """``value`` in its normal form, as identity keys it (``about.account_number`` in ``account_format``)."""
        return account_rule.account_number(value, self.account_format)

    def about(self, event: Event, carried: Sequence[str]) -> list[str]:
        """The keys of ``carried`` a split divides what ``event`` fed by (``about.about`` in ``account_format``)."""
        return account_rule.about(event, carried, self.account_format)

    def topics(self) -> list[TopicSpec]:
        """Every topic some section reads, each once, in registration order."""
        seen: dict[str, TopicSpec] = {}
        for section in self.sections:
            for spec in section.topics:
                seen.setdefault(spec.suffix, spec)
        return list(seen.values())

    def reads(self, schema: str) -> bool:
        """Whether a section that ``places`` its events reads ``schema``: an event of it must name a customer and is
        a contact on the screen pop."""
        return schema in self._placed

    def takes(self, schema: str) -> bool:
        """Whether any section reads ``schema`` (``wants`` tells for one event)."""
        return schema in self._by_schema

    def wants(self, event: Event) -> bool:
        """Whether some section's state changes with ``event``: identity carries its record to its customer."""
        return any(section.wants(event) for section in self._by_schema.get(event.schema, ()))

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        """Identifiers every interested section uses to locate the customer of ``event``."""
        found: list[dict[str, str]] = []
        for section in self._by_schema.get(event.schema, ()):
            found.extend(section.identifiers(event))
        return found

    def apply(self, profile: ProfileState | None, event: Event, carried: Sequence[str] = (),
              person: bool = True, told: bool = False) -> ProfileState:
        """``profile`` after ``event``; ``carried``: the identifier keys the event came through (recorded in ``VIA``
        for the entries it feeds, so that a split can tell where they go; a business event only its account's:
        ``about``); ``person``: whether the matcher takes the
        event's traits as this customer's person (False: the ``personal`` sections, the name, do not take it);
        ``told``: the event carried its person's traits (its entries are marked ``TOLD``: they stay at a claim)."""
        result = dict(profile or {})
        via: Via = dict(result.get(VIA) or {})
        for section in self._by_schema.get(event.schema, ()):
            if not section.wants(event) or section.personal and not person:
                continue
            state = result[section.name] = section.apply(result.get(section.name), event)
            entries = section.entries(event) if carried else []
            if entries or section.name in via:
                known = dict(via.get(section.name) or {})
                digests = [via_key(key) for key in self.about(event, carried)]
                for entry in entries:
                    known[entry] = _with_keys(known.get(entry), digests, told)
                _keep_held(via, section, known, state)
        if via:
            result[VIA] = via
        else:
            result.pop(VIA, None)
        return result

    def merge(self, survivor: ProfileState | None, merged: ProfileState | None) -> ProfileState:
        survivor, merged = survivor or {}, merged or {}
        result = dict(survivor)
        known = {section.name: section for section in self.sections}
        for name, state in merged.items():
            section = known.get(name)
            if name == VIA:
                continue
            if section is None:  # a section no longer registered: keep what the survivor has
                result.setdefault(name, state)
            else:
                result[name] = section.merge(survivor.get(name), state)
        via: Via = {}
        for name in {*(survivor.get(VIA) or {}), *(merged.get(VIA) or {})}:
            if name not in known:
                continue
            ours, theirs = (survivor.get(VIA) or {}).get(name) or {}, (merged.get(VIA) or {}).get(name) or {}
            union = {entry: _with_keys(ours.get(entry), theirs.get(entry) or ()) for entry in {*ours, *theirs}}
            _keep_held(via, known[name], union, result.get(name))
        if via:
            result[VIA] = via
        else:
            result.pop(VIA, None)
        return result

    def impersonal(self, profile: ProfileState | None) -> ProfileState:
        """``profile`` without its ``personal`` sections (the name) and their ``VIA`` record: what a customer whose
        traits are another person's brings to the claimant it dissolves into (``merge_absorb.merge_profiles``)."""
        personal = {section.name for section in self.sections if section.personal}
        result = {name: state for name, state in (profile or {}).items() if name not in personal}
        via = {name: known for name, known in (result.pop(VIA, None) or {}).items() if name not in personal}
        if via:
            result[VIA] = via
        return result

    def split(self, profile: ProfileState | None, leaving: Sequence[Event], moved_ids: Collection[str] = (),
              held_ids: Collection[str] = (), claim: bool = False,
              also: Mapping[str, Collection[str]] | None = None,
              since: int | None = None,
              stay: Mapping[str, Collection[str]] | None = None) -> tuple[ProfileState, ProfileState]:
        """``(the source's profile, the new customer's)`` after an operator's split hands the contacts of the events
        ``leaving`` to a new customer (each section's ``split``) and moves the identifier keys ``moved_ids`` while the
        source keeps ``held_ids``: the entries that ``follows`` says follow them go too (each section's ``part``).
        ``claim``: the identifiers move to the customer of their earliest event (``claim_node.on_give``), which says
        nothing of whose traits an entry holds: a ``personal`` section's entries stay, but for those of ``leaving``,
        and so does an entry an event that told its person fed (``TOLD``: the matcher placed it by its traits).
        ``also``: section name -> entries that go whatever they came through (the handoffs opened during a moved
        contact: ``processors.identity.graph.handoff_moves``). ``since`` (epoch µs; a recycle's claim, a tenant change
        of an account included): an entry that follows the moved identifiers but holds a fact from before it stays
        (``ProfileSection.before``: the previous holder's history). ``stay``: section name -> entries that stay
        whatever they came through (a handoff whose creation stays with its contact: ``handoff_records.staying``),
        unless ``also`` names them.
        Pure; a section left empty is left out, and so is the new customer's profile when nothing goes."""
        kept, moved = dict(profile or {}), {}
        via: Via = dict(kept.pop(VIA, None) or {})
        moved_via, held_via = {via_key(key) for key in moved_ids}, {via_key(key) for key in held_ids}
        via_kept: Via = {}
        via_moved: Via = {}
        for section in self.sections:
            if section.name not in kept:
                continue
            stays, goes = section.split(kept[section.name], leaving)
            known = via.get(section.name) or {}
            going = set() if claim and section.personal else \
                {entry for entry, ids in known.items()
                 if follows(ids, moved_via, held_via) and not (claim and TOLD in ids)
                 and not (since is not None and section.before(kept[section.name], entry, since))}
            going -= set((stay or {}).get(section.name, ()))
            going |= set((also or {}).get(section.name, ()))
            if going and stays:
                stays, taken = section.part(stays, going)
                goes = section.merge(goes, taken) if taken else goes
            if stays:
                kept[section.name] = stays
                _keep_held(via_kept, section, known, stays)
            else:
                del kept[section.name]
            if goes:
                moved[section.name] = goes
                _keep_held(via_moved, section, known, goes)
        if via_kept:
            kept[VIA] = via_kept
        if via_moved:
            moved[VIA] = via_moved
        return kept, moved

    def held_before(self, profile: ProfileState | None, moved_ids: Collection[str], held_ids: Collection[str],
                    since: int) -> dict[str, set[str]]:
        """Section name -> the entries that follow ``moved_ids`` (as ``split``'s claim reads them: not ``TOLD``) and
        hold a fact from before ``since`` (epoch µs, ``ProfileSection.before``): a previous holder's facts placed on
        the holder a recycle or a tenant change gave the identifier to, which go back to her (``also`` of ``split``;
        ``processors.identity.graph.held_before``)."""
        profile = profile or {}
        via: Via = profile.get(VIA) or {}
        moved, held = {via_key(key) for key in moved_ids}, {via_key(key) for key in held_ids}
        found: dict[str, set[str]] = {}
        for section in self.sections:
            state = profile.get(section.name)
            entries = {entry for entry, ids in (via.get(section.name) or {}).items()
                       if follows(ids, moved, held) and TOLD not in ids and section.before(state, entry, since)}
            if state and entries and not section.personal:
                found[section.name] = entries
        return found

    def render(self, profile: ProfileState | None) -> dict[str, Any]:
        """Every registered section, rendered; a section with no state yet renders its empty state (``[]`` for a
        list, an object of empty lists for ``products``), never null: one JSON shape for every customer (a new
        user saw ``"open_handoffs": null`` beside ``"eligible_offers": []``)."""
        profile = profile or {}
        return {section.name: section.render(profile.get(section.name) or {}) for section in self.sections}


def _keep_held(via: Via, section: ProfileSection, known: dict[str, list[str]], state: Any) -> None:
    """``via[section]``: the record ``known`` of the entries ``state`` still holds (none: left out)."""
    held = section.holds(state) if state else set()
    kept = {entry: ids for entry, ids in known.items() if entry in held}
    if kept:
        via[section.name] = kept
    else:
        via.pop(section.name, None)
