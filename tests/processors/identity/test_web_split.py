"""The screen pop by id after an operator split (#8 point 7, new-user finding 2): ``GET /customers/cus_…be4b``, the id
of a customer merged into Jonathan before the account it brought was split off, still answered Jonathan with no
word of the split. It still resolves to the customer it was merged into (a merge does not record what it brought),
and now says so and names the split-off customer. Runs the real intake and graph in process."""

from __future__ import annotations

import asyncio
from typing import Any

from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import Created, Merged, Send, Split
from tests.processors.identity.support import Harness
from tests.processors.identity.test_web_household import screen_pop

ACCOUNT, PHONE, EMAIL = ("ACCOUNT", "ACC-7718"), ("PHONE", "+33622222222"), ("EMAIL", "jonathan@t7.example")


def by_id(h: Harness, customer: str) -> dict[str, Any]:
    """What ``GET /customers/{id}`` answers (its view's steps, without the HTTP)."""
    found = asyncio.run(screen_pop(h).profile(customer))
    assert found is not None
    return found


def test_a_merged_away_id_answers_with_its_survivor_and_says_so_and_names_a_later_split() -> None:
    h = Harness()
    h.observe(EMAIL, PHONE)
    h.observe(ACCOUNT, minutes=1)  # the counter transaction: its own customer, for now
    (_, brought) = (c.customer_id for c in h.decisions(Created))
    h.observe(PHONE, ACCOUNT, minutes=2)
    (merged,) = h.decisions(Merged)
    jonathan = merged.survivor_id
    assert merged.merged_id == brought
    before = by_id(h, brought)
    assert before["customer_id"] == jonathan and before["split_customer_ids"] == []
    assert before["resolved_note"] == f"customer {brought} was merged into {jonathan}"
    assert by_id(h, jonathan)["resolved_note"] is None

    h.local.submit([Send(jonathan, SplitCustomer([h.key(*ACCOUNT)], "account belongs to his father", "cmd-7", 10**15))])
    h.local.run()
    (split,) = h.decisions(Split)
    after = by_id(h, brought)
    assert after["customer_id"] == jonathan and after["split_customer_ids"] == [split.new_id]
    assert after["resolved_note"].startswith(f"customer {brought} was merged into {jonathan}; an operator split "
                                             f"customer {split.new_id} off it")
    assert by_id(h, jonathan)["resolved_note"] is None and by_id(h, jonathan)["split_customer_ids"] == [split.new_id]
    assert by_id(h, split.new_id)["split_customer_ids"] == [jonathan]  # each side names the other
