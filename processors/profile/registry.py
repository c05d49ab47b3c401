"""Every section of the screen-pop profile.

To add a section: write a ``ProfileSection`` subclass in your processor's package and add ONE
``register(YourSection)`` line at the bottom of this file (with its import). Nothing else changes: the
identity processor subscribes to the section's topics, resolves its events to customers, keeps its
state per customer, merges it when customers merge and renders it in the screen pop.
"""

from __future__ import annotations

from processors.handoffs.profile_section import OpenHandoffsSection
from processors.offers.profile_section import EligibleOffersSection
from processors.profile.section import ProfileSection
from processors.profile.sections.cards import CardsSection
from processors.profile.sections.name import NameSection
from processors.profile.sections.products import ProductsSection
from processors.profile.sections.recent_contacts import RecentContactsSection

SECTIONS: list[type[ProfileSection]] = []


def register(section_cls: type[ProfileSection]) -> type[ProfileSection]:
    """Add a section (idempotent; usable as a class decorator). Section names must be unique."""
    if section_cls in SECTIONS:
        return section_cls
    if any(existing.name == section_cls.name for existing in SECTIONS):
        raise ValueError(f"a profile section named {section_cls.name!r} is already registered")
    SECTIONS.append(section_cls)
    return section_cls


register(ProductsSection)
register(RecentContactsSection)
register(OpenHandoffsSection)
register(EligibleOffersSection)
register(NameSection)
register(CardsSection)
