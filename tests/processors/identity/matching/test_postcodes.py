"""A postcode one digit off is another town, not a typo of one person's (tester14 S1, issue #8).

Two counter visits of namesakes (Luc Moreau, born 1988-08-08), each with an account and a phone of their own and no
identifier in common, in Toulouse (31000) and Bordeaux (33000): the postcodes used to compare as *close* (+3.9 bits
instead of −4.6) and the pair merged on traits alone at +8.06 bits. A postcode has no close level
(``compare.postcode_level``): the pair weighs as any two different postcodes do, −0.47 bits, and goes to review.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.branch.mapper import CounterMapper
from bus.config import TopicSettings
from processors.identity.graph.outputs import Merged, ReviewRequested
from processors.identity.matching.compare import Level, trait_levels
from processors.identity.matching.defaults import DEFAULT_MU
from processors.identity.matching.traits import summarize
from tests.adapters.branch.support import branch_settings
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

LUC = {"given_name": "Luc", "family_name": "Moreau", "birth_date": "1988-08-08"}
RECEIVED = datetime(2026, 12, 1, 10, 50, tzinfo=UTC)


def visit(event_id: str, account: str, phone: str, postcode: str, minute: int) -> dict[str, Any]:
    """A counter transaction as tester14 uploaded it to ``POST /v1/counter/events``."""
    return {"event_id": event_id, "kind": "transaction", "occurred_at": f"2026-12-01T10:{minute:02d}:00+01:00",
            "agent_id": "E-1",
            "identifiers": [{"type": "ACCOUNT", "value": account}, {"type": "PHONE", "value": phone}],
            "customer": {**LUC, "postcode": postcode},
            "transaction": {"id": f"TX-{event_id}", "type": "payment", "status": "completed", "counter_id": "C1"}}


def two_visits(second_postcode: str) -> Harness:
    h = Harness(settings(default_region="FR"))
    branch = CounterMapper(branch_settings(), TopicSettings())
    for native in (visit("v-lm-1", "ACC-31000111", "06 70 10 20 30", "31000", 0),
                   visit("v-lm-2", "ACC-33000222", "06 70 10 20 31", second_postcode, 5)):
        for outgoing in branch(native, terminal_id="CT-0142-01", branch_id="0142", received_at=RECEIVED).events:
            h.feed(outgoing.event, topic=outgoing.topic.removeprefix("omnibus."))
    h.local.check_consistent()
    return h


@pytest.mark.parametrize("second", ["33000", "31001", "31900", "13000", "3100", "310000", "67000"])
def test_namesakes_whose_postcodes_differ_by_one_edit_go_to_review_like_any_two_postcodes(second: str) -> None:
    """The reported pair (33000), the other one-edit postcodes (a digit replaced, dropped, added, two swapped) and the
    control (67000): a review at −0.47 bits each, never a merge."""
    h = two_visits(second)
    assert h.customer("ACCOUNT", "ACC-31000111") != h.customer("ACCOUNT", "ACC-33000222")
    (review,) = h.decisions(ReviewRequested)
    assert not h.decisions(Merged) and review.match_weight == pytest.approx(-0.47, abs=0.01)
    assert review.levels["postcode"] == "different"


def test_the_same_postcode_still_merges_the_namesakes_as_documented() -> None:
    h = two_visits("31000")
    assert h.customer("ACCOUNT", "ACC-31000111") == h.customer("ACCOUNT", "ACC-33000222")
    (merged,) = h.decisions(Merged)
    assert merged.lineage.rule == "blocking-candidate"


def test_no_trait_or_identifier_one_character_off_weighs_as_agreement_where_it_names_another_place_or_line() -> None:
    """The rest of the kind: the default table has no close level for postcodes, and identifiers (a phone one digit
    off, an account) compare exactly: agree (login, for an e-mail in common where one side logs in), different or
    missing."""
    assert "close" not in DEFAULT_MU["postcode"]
    assert all(set(levels) <= {"agree", "login", "different"} for name, levels in DEFAULT_MU.items() if name.isupper())
    levels = trait_levels(summarize({**LUC, "postcode": "31000"}), summarize({**LUC, "postcode": "31001"}))
    assert levels["postcode"] is Level.DIFFERENT
