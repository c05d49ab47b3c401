from bus.serde import Event
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


# --- #8 point 7: the entries of products and handoffs follow a split by the identifiers they came through ---------

ACC_MOVED, ACC_KEPT, PHONE_KEPT = "ACCOUNT:A-2", "ACCOUNT:A-1", "PHONE:+33611111111"


def _handoff(handoff_id: str, version: int = 1, status: str = "CREATED") -> "Event":
    from tests.processors.handoffs.factories import created
    from tests.processors.handoffs.test_profile_section import status_events

    (event,) = status_events(created(handoff_id))
    return Event(event.schema, {**event.value, "version": version, "status": status})


def _split_profile() -> dict:
    """A wrongly merged customer: account A-1 (kept) with a product, account A-2 (moving) with a product and a
    handoff, a handoff that came through both, and a contact."""
    book = ProfileBook.from_registry()
    profile = book.apply(None, product_subscribed("A-1", product="TV"), [ACC_KEPT])
    profile = book.apply(profile, product_subscribed("A-2", product="FIBER-1G"), [ACC_MOVED])
    profile = book.apply(profile, _handoff("h-moved"), [ACC_MOVED])
    profile = book.apply(profile, _handoff("h-mixed"), [ACC_MOVED])
    profile = book.apply(profile, _handoff("h-mixed", 2, "ROUTED"), [PHONE_KEPT])
    return profile


def test_a_split_moves_the_products_and_handoffs_that_came_through_moved_identifiers_only() -> None:
    """The moved person's product and open handoff leave the source's screen pop (the other person saw them); a
    handoff fed through a moved and a kept identifier stays, like a contact (nothing tells whose it was)."""
    from processors.profile.book import VIA, via_key

    book = ProfileBook.from_registry()
    profile = _split_profile()
    kept, moved = book.split(profile, [], [ACC_MOVED], [ACC_KEPT, PHONE_KEPT])
    kept_view, moved_view = book.render(kept), book.render(moved)
    assert [p["product_code"] for p in kept_view["products"]["products"]] == ["TV"]
    assert [p["product_code"] for p in moved_view["products"]["products"]] == ["FIBER-1G"]
    assert [h["handoff_id"] for h in kept_view["open_handoffs"]] == ["h-mixed"]
    assert [h["handoff_id"] for h in moved_view["open_handoffs"]] == ["h-moved"]
    # a later split of the new customer divides too; the record holds digests, no identifier value
    assert moved[VIA]["products"] == {"products/sub-FIBER-1G": [via_key(ACC_MOVED)]}
    assert "A-2" not in repr(moved[VIA])
    assert "products/sub-FIBER-1G" not in kept[VIA]["products"]
    # the same events in another order give the same division
    events = [(product_subscribed("A-2", product="FIBER-1G"), [ACC_MOVED]), (_handoff("h-mixed", 2, "ROUTED"),
              [PHONE_KEPT]), (_handoff("h-moved"), [ACC_MOVED]), (_handoff("h-mixed"), [ACC_MOVED]),
              (product_subscribed("A-1", product="TV"), [ACC_KEPT])]
    other: dict | None = None
    for event, carried in events:
        other = book.apply(other, event, carried)
    assert book.render(book.split(other, [], [ACC_MOVED], [ACC_KEPT, PHONE_KEPT])[1]) == moved_view


def test_entries_with_no_record_of_their_identifiers_or_too_many_stay_with_the_source() -> None:
    from processors.profile.book import VIA_KEYS_PER_ENTRY

    book = ProfileBook.from_registry()
    untold = book.apply(None, product_subscribed("A-2"))  # applied before the record existed: nothing tells
    assert book.split(untold, [], [ACC_MOVED], []) == (untold, {})
    crowded = None
    for index in range(VIA_KEYS_PER_ENTRY + 1):
        crowded = book.apply(crowded, product_subscribed("A-2"), [ACC_MOVED if index == 0 else f"EMAIL:{index}@x.org"])
    assert book.split(crowded, [], [ACC_MOVED, *(f"EMAIL:{i}@x.org" for i in range(9))], [])[1] == {}


def test_the_record_of_identifiers_merges_with_the_customers_and_forgets_dropped_entries() -> None:
    from processors.profile.book import VIA, via_key

    book = ProfileBook.from_registry()
    one = book.apply(None, _handoff("h-1"), [ACC_MOVED])
    two = book.apply(None, _handoff("h-1", 2, "ROUTED"), [PHONE_KEPT])
    merged = book.merge(one, two)
    assert merged[VIA] == {"open_handoffs": {"h-1": sorted([via_key(ACC_MOVED), via_key(PHONE_KEPT)])}}
    assert book.split(merged, [], [ACC_MOVED], [PHONE_KEPT])[1] == {}  # came through both: stays
    closed = book.apply(merged, _handoff("h-1", 3, "RESOLVED"), [ACC_MOVED])
    assert "h-1" in closed[VIA]["open_handoffs"]  # its tombstone still divides
    assert book.render(closed)["open_handoffs"] == [] and VIA not in book.render(closed)


def test_a_split_is_pure_and_a_second_one_of_the_same_identifiers_moves_nothing() -> None:
    book = ProfileBook.from_registry()
    profile = _split_profile()
    before = repr(profile)
    kept, moved = book.split(profile, [], [ACC_MOVED], [ACC_KEPT, PHONE_KEPT])
    assert repr(profile) == before
    assert book.split(kept, [], [ACC_MOVED], [ACC_KEPT, PHONE_KEPT]) == (kept, {})


def test_a_customer_master_line_follows_its_account_not_the_identifiers_the_source_keeps() -> None:
    """tester17 M1: the AccountOpened of EDF-700001 carried the account, the holder's IBAN, e-mail and phone; the
    operator split the account off. Its record (tier, segment) goes with the account, as its product does: no
    account row left on the source whose number pops the other customer, none missing on the new one."""
    from tests.processors.identity.support import account_opened

    book = ProfileBook.from_registry()
    account, kept = "ACCOUNT:EDF-700001", ["ACCOUNT:FR7630006000011234567890189", "EMAIL:r.durand@example.org",
                                          "PHONE:+33145000011"]
    profile = book.apply(None, account_opened("EDF-700001", [("EMAIL", "r.durand@example.org")]), [account, *kept])
    profile = book.apply(profile, product_subscribed("EDF-700001", product="ELEC-BASE"), [account])
    stays, goes = book.split(profile, [], [account], kept)
    assert book.render(stays)["products"] == {"accounts": [], "products": [], "open_orders": [], "overdue_bills": []}
    moved = book.render(goes)["products"]
    assert [(a["account_number"], a["service_tier"]) for a in moved["accounts"]] == [("EDF-****0001", "premium")]
    assert [p["product_code"] for p in moved["products"]] == ["ELEC-BASE"]


def test_an_entry_a_told_event_fed_stays_at_a_claim_of_its_account_and_follows_a_split() -> None:
    """tester18 F1: a joint account's holder's own line (her name and birth date: ``told``) fed her product; the other
    holder's customer claims the account (its line ranks first on it). Her product stays on her screen pop; the
    account-only fact (no traits) goes with the account, and an operator's split still moves both."""
    book = ProfileBook.from_registry()
    account, own = "ACCOUNT:JNT-T18-1", ["EMAIL:emma.martin@t18.example", "PHONE:+33611001804"]
    profile = book.apply(None, product_subscribed("JNT-T18-1", product="CURRENT-JOINT"), [account, *own], told=True)
    profile = book.apply(profile, product_subscribed("JNT-T18-1", product="SAVINGS"), [account])
    stays, goes = book.split(profile, [], [account], own, claim=True)
    assert [p["product_code"] for p in book.render(stays)["products"]["products"]] == ["CURRENT-JOINT"]
    assert [p["product_code"] for p in book.render(goes)["products"]["products"]] == ["SAVINGS"]
    assert book.merge(stays, goes) == book.merge(goes, stays)  # the mark merges like the record it is in
    stays, goes = book.split(profile, [], [account], own)
    assert book.render(stays)["products"]["products"] == []
    assert len(book.render(goes)["products"]["products"]) == 2
