import datetime as dt

from bus.serde import Event
from processors.profile.sections.products import ProductsSection
from tests.processors.identity.support import envelope, product_subscribed

SECTION = ProductsSection()


def cancelled(minutes: int) -> Event:
    return Event("omnibus.business.ProductCancelled", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=minutes), "account_number": "ACC-1", "customer_identifiers": [],
        "subscription_id": "sub-FIBER-1G", "product_code": "FIBER-1G", "reason": None, "effective_at": None,
    })


def test_products_held_and_the_account_as_identifier() -> None:
    event = product_subscribed("ACC-1", minutes=1)
    assert {"type": "ACCOUNT", "value": "ACC-1"} in SECTION.identifiers(event)
    state = SECTION.apply(None, event)
    assert SECTION.apply(state, event) == state
    (product,) = SECTION.render(state)["products"]
    assert product["product_code"] == "FIBER-1G" and product["account_number"] == "****CC-1"


def test_a_late_or_replayed_subscription_does_not_resurrect_a_cancelled_product() -> None:
    state = SECTION.apply(SECTION.apply(None, product_subscribed("ACC-1", minutes=1)), cancelled(minutes=5))
    assert SECTION.render(state)["products"] == []
    assert SECTION.render(SECTION.apply(state, product_subscribed("ACC-1", minutes=1)))["products"] == []


def test_overdue_bills_and_merges_keep_the_newest_fact() -> None:
    overdue = Event("omnibus.business.PaymentOverdue", {
        "envelope": envelope("BUSINESS_SYSTEM", minutes=9), "account_number": "ACC-1", "customer_identifiers": [],
        "bill_id": "B-1", "amount_due": {"amount_minor": 1999, "currency": "CNY"}, "due_date": dt.date(2025, 2, 1),
        "days_overdue": 28,
    })
    old = SECTION.apply(None, product_subscribed("ACC-1", minutes=1))
    new = SECTION.apply(SECTION.apply(None, cancelled(minutes=5)), overdue)
    merged = SECTION.merge(old, new)
    assert SECTION.render(merged)["products"] == []
    assert SECTION.render(merged)["overdue_bills"][0]["days_overdue"] == 28
