"""Blocking nodes: file customers, propose pairs worth scoring, forget merged customers."""

from __future__ import annotations

from processors.identity.graph.local import MemoryStore
from processors.identity.graph.messages.steps import Block, Link, Unblock
from processors.identity.graph.outputs import Send
from processors.identity.matching.traits import summarize
from tests.processors.identity.support import Harness, matcher_settings

ANN = summarize({"given_name": "Ann", "family_name": "Lee", "birth_date": "1980-01-01", "postcode": "75001"})
ANNE = summarize({"given_name": "Anne", "family_name": "Lee", "birth_date": "1980-01-01", "postcode": "75001"})
BOB = summarize({"given_name": "Bob", "family_name": "Lee", "birth_date": "1983-06-07", "postcode": "75001"})
KEY = "BLOCK:pf:75001:L"


def block(store: MemoryStore, customer: str, traits: dict, kinds: list[str] | None = None) -> list:
    graph = Harness(matcher_settings()).local.graph
    return graph.handle(store, KEY, Block(customer, traits, kinds or ["ACCOUNT"]))


def test_a_likely_pair_is_proposed_once_and_a_household_pair_not_at_all() -> None:
    store = MemoryStore()
    assert block(store, "cus_b", ANN) == []
    (proposal,) = block(store, "cus_a", ANNE)
    assert isinstance(proposal, Send) and proposal.node == "cus_b"
    assert isinstance(proposal.message, Link) and proposal.message.other == "cus_a"
    assert block(store, "cus_a", ANNE) == []  # a duplicate
    assert block(store, "cus_c", BOB) == []  # another given name and birth date: refused outright


def test_an_unblocked_customer_is_forgotten() -> None:
    store = MemoryStore()
    block(store, "cus_b", ANN)
    graph = Harness(matcher_settings()).local.graph
    graph.handle(store, KEY, Unblock("cus_b"))
    assert store.get_node(KEY) is None
