import datetime as dt

import pytest

from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.profile.book import ProfileBook
from processors.profile.limits import ProfileLimits
from processors.profile.sections.products import ProductsSection
from tests.processors.identity.support import T0, account_opened, envelope, product_subscribed

SECTION = ProductsSection()


def cancelled(minutes: int, *, product: str = "FIBER-1G", effective_at: dt.datetime | None = None) -> Event:
    return Event("omnibus.business.ProductCancelled", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=minutes), "account_number": "ACC-1", "customer_identifiers": [],
        "subscription_id": f"sub-{product}", "product_code": product, "reason": None, "effective_at": effective_at,
    })


def account_closed(account: str, minutes: int) -> Event:
    return Event("omnibus.business.AccountClosed", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=minutes), "account_number": account, "customer_identifiers": [],
        "reason": None, "traits_event_id": None,
    })


def at(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def apply_all(*events: Event, section: ProductsSection = SECTION) -> dict:
    state = None
    for event in events:
        state = section.apply(state, event)
    assert state is not None
    return state


def test_products_held_and_the_account_as_identifier() -> None:
    event = product_subscribed("ACC-1", minutes=1)
    assert {"type": "ACCOUNT", "value": "ACC-1"} in SECTION.identifiers(event)
    state = SECTION.apply(None, event)
    assert SECTION.apply(state, event) == state
    (product,) = SECTION.render(state)["products"]
    assert product["product_code"] == "FIBER-1G" and product["account_number"] == "****CC-1"


def test_a_late_or_replayed_subscription_does_not_resurrect_a_cancelled_product() -> None:
    state = SECTION.apply(SECTION.apply(None, product_subscribed("ACC-1", minutes=1)), cancelled(minutes=5))
    assert [p["status"] for p in SECTION.render(state)["products"]] == ["CANCELLED"]
    replayed = SECTION.render(SECTION.apply(state, product_subscribed("ACC-1", minutes=1)))["products"]
    assert [(p["status"], p["closed_at"]) for p in replayed] == [("CANCELLED", at(5))]


def test_overdue_bills_and_merges_keep_the_newest_fact() -> None:
    overdue = Event("omnibus.business.PaymentOverdue", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=9), "account_number": "ACC-1", "customer_identifiers": [],
        "bill_id": "B-1", "amount_due": {"amount_minor": 1999, "currency": "CNY"}, "due_date": dt.date(2025, 2, 1),
        "days_overdue": 28,
    })
    old = SECTION.apply(None, product_subscribed("ACC-1", minutes=1))
    new = SECTION.apply(SECTION.apply(None, cancelled(minutes=5)), overdue)
    merged = SECTION.merge(old, new)
    assert [p["status"] for p in SECTION.render(merged)["products"]] == ["CANCELLED"]
    assert SECTION.render(merged)["overdue_bills"][0]["days_overdue"] == 28


def test_f2_a_closed_account_and_a_cancelled_product_are_shown_after_the_open_ones_marked_with_the_date() -> None:
    """F2: the screen pop hid them entirely; the customer calls about the final bill of the contract that just ended."""
    state = apply_all(account_opened("ACC-1", minutes=1), account_opened("ACC-2", minutes=2),
                      account_opened("ACC-3", minutes=3), account_closed("ACC-1", minutes=10),
                      account_closed("ACC-3", minutes=20), product_subscribed("ACC-1", minutes=1),
                      product_subscribed("ACC-1", product="TV-BASIC", minutes=1),
                      product_subscribed("ACC-2", product="MOBILE-5G", minutes=2), cancelled(minutes=10),
                      cancelled(minutes=11, product="TV-BASIC", effective_at=T0 + dt.timedelta(days=30)))
    shown = SECTION.render(state)
    assert [(a["account_number"], a["status"], a["closed_at"]) for a in shown["accounts"]] == [
        ("****CC-2", "OPEN", None), ("****CC-3", "CLOSED", at(20)), ("****CC-1", "CLOSED", at(10))]
    assert [(p["product_code"], p["status"], p["closed_at"]) for p in shown["products"]] == [
        ("MOBILE-5G", "ACTIVE", None),
        ("TV-BASIC", "CANCELLED", at(30 * 24 * 60)),  # the cancellation's effective date, not when it was sent
        ("FIBER-1G", "CANCELLED", at(10))]
    assert shown["products"][2]["since"] == at(1)  # what it was since stays


def test_f2_a_reopened_account_or_resubscribed_product_is_open_again_without_a_closing_date() -> None:
    state = apply_all(account_opened("ACC-1", minutes=1), account_closed("ACC-1", minutes=5),
                      account_opened("ACC-1", minutes=9), product_subscribed("ACC-1", minutes=1), cancelled(minutes=5),
                      product_subscribed("ACC-1", minutes=9))
    shown = SECTION.render(state)
    assert [(a["status"], a["closed_at"]) for a in shown["accounts"]] == [("OPEN", None)]
    assert [(p["status"], p["closed_at"]) for p in shown["products"]] == [("ACTIVE", None)]


def test_f2_an_account_closed_before_this_version_stored_the_date_shows_its_closing_facts_time() -> None:
    state = apply_all(account_opened("ACC-1", minutes=1), account_closed("ACC-1", minutes=5))
    del state["accounts"]["ACC-1"]["closed_at"]
    assert SECTION.render(state)["accounts"][0]["closed_at"] == at(5)


def test_f2_closed_entries_are_bounded_with_the_rest_the_oldest_closed_going_first() -> None:
    section = ProductsSection(ProfileLimits(products_per_kind=3))
    events = [account_opened(f"ACC-{n}", minutes=n) for n in range(1, 6)]
    events += [account_closed(f"ACC-{n}", minutes=10 + n) for n in (1, 2, 3)]
    shown = section.render(apply_all(*events, section=section))["accounts"]
    assert [(a["account_number"], a["status"]) for a in shown] == [
        ("****CC-4", "OPEN"), ("****CC-5", "OPEN"), ("****CC-3", "CLOSED")]


def test_f2_an_open_entry_stores_no_closing_date() -> None:
    """Every customer's profile is stored and moved whole: an open account or product carries no ``closed_at``."""
    state = apply_all(account_opened("ACC-1", minutes=1), account_closed("ACC-1", minutes=5),
                      account_opened("ACC-1", minutes=9), product_subscribed("ACC-1", minutes=1))
    assert "closed_at" not in state["accounts"]["ACC-1"] and "closed_at" not in state["products"]["sub-FIBER-1G"]


# tester28 F3: a layout without occurred_at stamps the export file's time and marks the event ``undated``; a fact
# dated by its source outranks it whatever the two instants, in either arrival order.
EXPORT, DATED = 3 * 24 * 60, 0  # minutes: the undated export three days after the dated fact


def undated(event: Event) -> Event:
    return Event(event.schema, {**event.value, "undated": True})


def dated(event: Event) -> Event:
    return Event(event.schema, {**event.value, "undated": False})


def undated_and_dated(kind: str) -> tuple[Event, Event, str]:
    """The undated fact stamped at the export and the dated fact before it, and the status the dated one gives."""
    if kind == "account opened undated, closed dated":
        return undated(account_opened("ACC-1", minutes=EXPORT)), dated(account_closed("ACC-1", DATED)), "CLOSED"
    if kind == "account closed undated, opened dated":
        return undated(account_closed("ACC-1", EXPORT)), dated(account_opened("ACC-1", minutes=DATED)), "OPEN"
    if kind == "product subscribed undated, cancelled dated":
        return undated(product_subscribed("ACC-1", minutes=EXPORT)), dated(cancelled(DATED)), "CANCELLED"
    return undated(cancelled(EXPORT)), dated(product_subscribed("ACC-1", minutes=DATED)), "ACTIVE"


KINDS = ["account opened undated, closed dated", "account closed undated, opened dated",
         "product subscribed undated, cancelled dated", "product cancelled undated, subscribed dated"]


def shown_status(state: dict | None, kind: str) -> list[str]:
    assert state is not None
    shown = SECTION.render(state)["accounts" if kind.startswith("account") else "products"]
    return [entry["status"] for entry in shown]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dated_first", [False, True], ids=["undated first", "dated first"])
def test_f3_an_undated_fact_stamped_at_the_export_never_outranks_a_dated_one(kind: str, dated_first: bool) -> None:
    """The tester's sample is the first: the master export's open, stamped 03/12, lost the close dated 30/11."""
    stamped, own_time, status = undated_and_dated(kind)
    state = apply_all(*((own_time, stamped) if dated_first else (stamped, own_time)))
    assert shown_status(state, kind) == [status]
    assert "undated" not in str(SECTION.render(state))  # the mark stays in the state


@pytest.mark.parametrize("kind", KINDS)
def test_f3_between_two_undated_facts_or_two_dated_ones_the_later_instant_wins(kind: str) -> None:
    stamped, own_time, status = undated_and_dated(kind)
    later = {**own_time.value["envelope"], "occurred_at": T0 + dt.timedelta(minutes=EXPORT + 1)}
    later_undated = Event(own_time.schema, {**own_time.value, "undated": True, "envelope": later})
    assert shown_status(apply_all(stamped, later_undated), kind) == [status]
    assert shown_status(apply_all(later_undated, stamped), kind) == [status]
    earlier_dated = Event(stamped.schema, {**stamped.value, "undated": False})
    assert shown_status(apply_all(earlier_dated, own_time), kind) != [status]  # dated at the export: later


def test_f3_a_merge_keeps_the_dated_fact_and_state_kept_before_the_mark_counts_as_dated() -> None:
    opened_undated = SECTION.apply(None, undated(account_opened("ACC-1", minutes=EXPORT)))
    closed_dated = SECTION.apply(None, dated(account_closed("ACC-1", DATED)))
    for survivor, merged in ((opened_undated, closed_dated), (closed_dated, opened_undated)):
        assert shown_status(SECTION.merge(survivor, merged), "account") == ["CLOSED"]
    before = SECTION.apply(None, account_closed("ACC-1", DATED))  # an event written before the field: no mark
    assert shown_status(SECTION.apply(before, undated(account_opened("ACC-1", minutes=EXPORT))), "account") == [
        "CLOSED"]


# papercuts3: the products section keyed accounts by the event's spelling; billing's CA-900001 and another
# producer's 900001 were two rows.
@pytest.mark.parametrize("written", ["900001", "ca 900001", "CA-0900001", "ca900001"])
def test_an_account_is_one_row_whatever_its_spelling_in_the_account_number_format(written: str) -> None:
    section = ProfileBook([ProductsSection()], NumberFormat(prefix="CA-")).sections[0]
    assert isinstance(section, ProductsSection)
    opened = account_opened("CA-900001", minutes=1)
    closed = account_closed(written, 5)
    for events in ((opened, closed), (closed, opened)):
        state = apply_all(*events, section=section)
        assert set(state["accounts"]) == {"CA-900001"}
        (row,) = section.render(state)["accounts"]
        assert row["status"] == "CLOSED"
        assert section.entries(closed) == section.entries(opened) == ["accounts/CA-900001"]


def test_accounts_kept_under_another_spelling_become_one_row_at_the_next_event() -> None:
    section = ProfileBook([ProductsSection()], NumberFormat(prefix="CA-")).sections[0]
    assert isinstance(section, ProductsSection)
    kept = apply_all(account_opened("900001", minutes=1), account_closed("CA-900001", 5))  # keyed as written
    assert set(kept["accounts"]) == {"900001", "CA-900001"}
    state = section.apply(kept, product_subscribed("ca 900001", minutes=6))
    assert set(state["accounts"]) == {"CA-900001"} and state["accounts"]["CA-900001"]["status"] == "CLOSED"
    assert state["products"]["sub-FIBER-1G"]["account_number"] == "CA-900001"
    assert section.holds(kept) == {"accounts/CA-900001"}


def order_changed(status: str, source_status: str, minutes: int) -> Event:
    return Event("omnibus.business.OrderStatusChanged", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=minutes), "order_id": "OS-CORTE-778899",
        "account_number": "000700123456", "customer_identifiers": [], "status": status, "previous_status": None,
        "source_status": source_status, "product_code": "CORTE", "traits_event_id": None, "undated": False,
    })


def test_tester33_f6_an_order_of_unknown_status_is_listed_with_a_warning_naming_the_systems_word() -> None:
    """tester33 F6: ``executada`` mapped to UNKNOWN was shown as an open order like any other. It is still listed
    (it may be open), with a note: the agent must not read it as open."""
    shown = SECTION.render(apply_all(order_changed("UNKNOWN", "suspensa", 1)))["open_orders"]
    assert shown == [{"order_id": "OS-CORTE-778899", "status": "UNKNOWN", "product_code": "CORTE", "note": (
        "status not known: the order system's word 'suspensa' maps to no common status, so this order may be finished "
        "or cancelled; check it in the order system before telling the customer it is open")}]


def test_an_order_whose_status_becomes_known_loses_the_word_and_the_note() -> None:
    state = apply_all(order_changed("UNKNOWN", "suspensa", 1), order_changed("IN_PROGRESS", "em execução", 2))
    assert state["orders"]["OS-CORTE-778899"].get("source_status") is None
    assert SECTION.render(state)["open_orders"] == [
        {"order_id": "OS-CORTE-778899", "status": "IN_PROGRESS", "product_code": "CORTE"}]
    assert SECTION.render(apply_all(order_changed("COMPLETED", "executada", 3)))["open_orders"] == []
