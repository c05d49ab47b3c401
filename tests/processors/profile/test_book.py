from bus.topics import BUSINESS_EVENTS, CONTACT_EVENTS
from processors.profile.book import ProfileBook
from processors.profile.sections.products import ProductsSection
from processors.profile.sections.recent_contacts import RecentContactsSection
from tests.processors.identity.support import interaction, observed, product_subscribed

BOOK = ProfileBook([ProductsSection(), RecentContactsSection()])


def test_events_reach_only_the_sections_that_read_them() -> None:
    profile = BOOK.apply(None, interaction([("PHONE", "+8613912345678")], channel="WEB"))
    assert set(profile) == {"recent_contacts"}
    profile = BOOK.apply(profile, product_subscribed("ACC-1"))
    assert set(profile) == {"recent_contacts", "products"}
    assert BOOK.apply(profile, observed([("EMAIL", "a@x.org")])) == profile
    assert BOOK.topics() == [BUSINESS_EVENTS, CONTACT_EVENTS]
    assert BOOK.reads("omnibus.contact.CallCompleted") and not BOOK.reads("omnibus.contact.IdentifiersObserved")


def test_merge_and_render_cover_every_section() -> None:
    a = BOOK.apply(None, interaction([("PHONE", "+8613912345678")], channel="WEB", minutes=1))
    b = BOOK.apply(None, product_subscribed("ACC-1"))
    b = BOOK.apply(b, interaction([("PHONE", "+8613912345678")], channel="CALL_CENTER", minutes=2))
    merged = BOOK.merge(a, {**b, "retired_section": {"x": 1}})
    assert set(merged["recent_contacts"]) == {"WEB", "CALL_CENTER"}
    assert merged["retired_section"] == {"x": 1}  # unknown sections are kept, not dropped
    view = BOOK.render(merged)
    assert set(view) == {"products", "recent_contacts"}
    assert [c["channel"] for c in view["recent_contacts"]] == ["CALL_CENTER", "WEB"]
    assert BOOK.render(None) == {"products": {"accounts": [], "products": [], "open_orders": [], "overdue_bills": []},
                                 "recent_contacts": []}


def test_every_registered_section_renders_lists_never_null_for_a_customer_it_knows_nothing_about() -> None:
    """A new user saw ``"open_handoffs": null`` beside ``"eligible_offers": []``: one shape for every customer."""
    book = ProfileBook.from_registry()

    def nulls(value: object, path: str) -> list[str]:
        if value is None:
            return [path]
        if isinstance(value, dict):
            return [found for key, item in value.items() for found in nulls(item, f"{path}.{key}")]
        return []

    for profile in (None, {}, BOOK.apply(None, product_subscribed("ACC-1"))):
        view = book.render(profile)
        assert set(view) == {section.name for section in book.sections}
        assert nulls(view, "profile") == []
        assert isinstance(view["open_handoffs"], list) and isinstance(view["eligible_offers"], list)


def test_a_split_hands_the_leaving_contacts_to_the_new_profile_and_leaves_other_sections_with_the_source() -> None:
    """#8 point 7: ``ProfileBook.split``; a section with no split of its own (products) stays whole with the source,
    and a section left empty is left out."""
    from processors.profile.book import ProfileBook
    from tests.processors.identity.support import interaction, product_subscribed

    book = ProfileBook.from_registry()
    visit = interaction([("ACCOUNT", "A-1")], channel="BRANCH", interaction_id="TX-1")
    profile = book.apply(book.apply(None, visit), product_subscribed("A-1", [("ACCOUNT", "A-1")]))
    kept, moved = book.split(profile, [visit])
    assert set(kept) == {"products"} and kept["products"] == profile["products"]
    assert moved == {"recent_contacts": profile["recent_contacts"]}
    assert book.split(profile, []) == (profile, {})
