import pytest

from processors.profile.registry import SECTIONS, register
from processors.profile.sections.products import ProductsSection
from processors.profile.sections.recent_contacts import RecentContactsSection


def test_built_in_sections_are_registered_once() -> None:
    assert ProductsSection in SECTIONS and RecentContactsSection in SECTIONS
    assert register(ProductsSection) is ProductsSection
    assert SECTIONS.count(ProductsSection) == 1


def test_section_names_are_unique() -> None:
    class Impostor(ProductsSection):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)
    assert Impostor not in SECTIONS
