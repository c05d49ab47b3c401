"""The demo offer is a valid offer whose texts fit its rule (tester10 #15: the call-center script said "the customer
has mobile only" and the title "at the price of your mobile plan", while the rule, ``!("FIBRE-1G" in products)``,
also admits customers with TV only or no product known yet).

The kind: a text that names a product of the demo's catalogue (``demo.traffic.PRODUCTS``, by code or by the first
word of its name) makes a claim about the customer's products, so the rule must look at that product: some customer
is admitted or refused depending on whether they hold it. The offered product itself (fibre here) is such a product.
"""

from __future__ import annotations

import itertools

import pytest

from demo.offers import OFFER_YAML
from demo.traffic import PRODUCTS
from processors.offers.definition import Offer
from processors.offers.facts import CustomerFacts
from processors.offers.offer_file import parse_offers

CODES = [code for code, _ in PRODUCTS]
HOLDINGS = [tuple(c for c, held in zip(CODES, mask, strict=True) if held)
            for mask in itertools.product((False, True), repeat=len(CODES))]


def demo_offers() -> list[Offer]:
    return parse_offers(OFFER_YAML, "demo offer")  # raises OfferFileError when the demo offer does not validate


def texts(offer: Offer) -> dict[str, str]:
    return {"title": offer.title, **{f"content.{channel}": text for channel, text in offer.content.items()}}


def named(text: str, code: str, name: str) -> bool:
    words = text.lower().replace(",", " ").replace(".", " ").split()
    return code.lower() in text.lower() or name.split()[0].lower() in words


def rule_looks_at(offer: Offer, code: str) -> bool:
    """Whether holding ``code`` or not changes the rule's answer for some holding of the other products."""
    def admits(products: tuple[str, ...]) -> bool:
        return offer.eligibility.matches(CustomerFacts(products=products))

    return any(admits(tuple(sorted({*held, code}))) != admits(tuple(p for p in held if p != code))
               for held in HOLDINGS)


@pytest.mark.parametrize("offer", demo_offers(), ids=lambda offer: offer.offer_id)
def test_every_product_the_texts_name_is_one_the_rule_looks_at(offer: Offer) -> None:
    claims = [(where, code) for where, text in texts(offer).items() for code, name in PRODUCTS
              if named(text, code, name) and not rule_looks_at(offer, code)]
    assert not claims, f"texts name products the eligibility rule ({offer.eligibility.source}) ignores: {claims}"


def test_the_reported_script_is_caught() -> None:
    (offer,) = demo_offers()
    reported = offer.model_copy(update={"content": {
        "default": "Add fibre to your 5G plan, first 3 months free.",
        "CALL_CENTER": "Script: the customer has mobile only. Offer fibre, 3 months free; no installation fee."}})
    assert not rule_looks_at(reported, "MOB-5G-50")
    assert named(reported.content["CALL_CENTER"], "MOB-5G-50", "Mobile 5G 50 GB")


def test_the_demo_offer_reaches_the_demo_customers_without_fibre() -> None:
    (offer,) = demo_offers()
    admitted = {held for held in HOLDINGS if offer.eligibility.matches(CustomerFacts(products=held))}
    assert admitted == {held for held in HOLDINGS if "FIBRE-1G" not in held}
    assert () in admitted  # a customer whose products billing has not sent yet sees it too: the texts must fit them
