"""All sections of one customer's profile together: apply an event, merge two customers, render.

The profile of a customer is ``{section name: section state}``. ``ProfileBook`` is pure: the identity
processor stores the profile per customer in a table and calls it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bus.serde import Event
from bus.topics import TopicSpec
from processors.profile.limits import ProfileLimits, load_profile_limits
from processors.profile.section import ProfileSection

ProfileState = dict[str, Any]


class ProfileBook:
    def __init__(self, sections: Iterable[ProfileSection]) -> None:
        self.sections: Sequence[ProfileSection] = tuple(sections)
        self._by_schema: dict[str, list[ProfileSection]] = {}
        for section in self.sections:
            for schema in section.schemas:
                self._by_schema.setdefault(schema, []).append(section)

    @classmethod
    def from_registry(cls, limits: ProfileLimits | None = None) -> ProfileBook:
        """Every registered section, bounded by ``limits`` (default: ``OMNIBUS_PROCESSOR_PROFILE__*``, so a
        worker and the verifier's recomputation keep the same history; raises ``ConfigError`` on a bad one)."""
        from processors.profile.registry import SECTIONS

        limits = limits if limits is not None else load_profile_limits()
        return cls(section_cls(limits) for section_cls in SECTIONS)

    def topics(self) -> list[TopicSpec]:
        """Every topic some section reads, each once, in registration order."""
        seen: dict[str, TopicSpec] = {}
        for section in self.sections:
            for spec in section.topics:
                seen.setdefault(spec.suffix, spec)
        return list(seen.values())

    def reads(self, schema: str) -> bool:
        return schema in self._by_schema

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        """Identifiers every interested section uses to locate the customer of ``event``."""
        found: list[dict[str, str]] = []
        for section in self._by_schema.get(event.schema, ()):
            found.extend(section.identifiers(event))
        return found

    def apply(self, profile: ProfileState | None, event: Event) -> ProfileState:
        result = dict(profile or {})
        for section in self._by_schema.get(event.schema, ()):
            result[section.name] = section.apply(result.get(section.name), event)
        return result

    def merge(self, survivor: ProfileState | None, merged: ProfileState | None) -> ProfileState:
        survivor, merged = survivor or {}, merged or {}
        result = dict(survivor)
        known = {section.name: section for section in self.sections}
        for name, state in merged.items():
            section = known.get(name)
            if section is None:  # a section no longer registered: keep what the survivor has
                result.setdefault(name, state)
            else:
                result[name] = section.merge(survivor.get(name), state)
        return result

    def split(self, profile: ProfileState | None, leaving: Sequence[Event]) -> tuple[ProfileState, ProfileState]:
        """``(the source's profile, the new customer's)`` after an operator's split hands the contacts of the events
        ``leaving`` to a new customer (each section's ``split``; pure). A section left empty is left out."""
        kept, moved = dict(profile or {}), {}
        for section in self.sections:
            if section.name in kept:
                stays, goes = section.split(kept[section.name], leaving)
                if stays:
                    kept[section.name] = stays
                else:
                    del kept[section.name]
                if goes:
                    moved[section.name] = goes
        return kept, moved

    def render(self, profile: ProfileState | None) -> dict[str, Any]:
        """Every registered section, rendered; a section with no state yet renders its empty state (``[]`` for a
        list, an object of empty lists for ``products``), never null: one JSON shape for every customer (a new
        user saw ``"open_handoffs": null`` beside ``"eligible_offers": []``)."""
        profile = profile or {}
        return {section.name: section.render(profile.get(section.name) or {}) for section in self.sections}
