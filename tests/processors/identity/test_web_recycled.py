"""Tester32 F14: after a system of record gave a number to a new customer, the new holder's screen pop said it is
"used by 2 people", naming the previous holder.

A customer-master export gave Jorge the mobile M1, his next line gave him another, and a new customer's line (Elena's)
gave M1 (``graph/recycle.py``); Elena's call from M1 is hers. Her screen pop still called M1 shared: the node kept
the evidence of Jorge's old line (a second person) and Jorge among the customers kept apart through it, so the
agent was told to doubt a right identification and pointed at a former customer. A former holder
(``IdentifierState.released_from``) no longer uses the identifier: the screen pop (``ScreenPop.hint``) counts neither
him nor his events' person, on Elena's screen pop or his own. The kind: a mobile, an e-mail and a landline; the
customer-master and billing-line paths; a closed contract's number given to the next active holder
(``test_number_recycling.py``); an operator's release; every arrival order on 1 and 3 partitions. A housemate of the
new holder who really uses the number still makes it shared, without the former holder.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from processors.identity.graph.state import IdentifierState
from tests.processors.identity.graph import test_number_recycling as closure_path
from tests.processors.identity.graph.test_evidence import ANN
from tests.processors.identity.graph.test_household_identifiers import event
from tests.processors.identity.graph.test_master_line_recycle import (
    CASES,
    ORDERS,
    Export,
    holder,
    release,
    run,
)
from tests.processors.identity.support import Harness
from tests.processors.identity.test_web_household import lookup, screen_pop

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it


def pop_of(h: Harness, customer: str) -> dict[str, Any]:
    """``GET /customers/{id}`` (its view's steps, without the HTTP)."""
    found = asyncio.run(screen_pop(h).profile(customer))
    assert found is not None
    return found


def hints_naming(found: dict[str, Any], customer: str) -> list[dict[str, Any]]:
    hints = [found["shared_identifier"], *found["shared_identifiers"]]
    return [hint for hint in hints if hint is not None and customer in hint["customer_ids"]]


def check(h: Harness, export: Export, context_: object) -> None:
    """M1 looked up: Elena's screen pop, not shared; neither screen pop names Jorge through it."""
    jorge, elena = holder(h, "jorge"), holder(h, "elena")
    found = lookup(h, *export.key)
    assert found["customer_id"] == elena, context_
    assert found["shared_identifier"] is None, (context_, found["shared_identifier"])
    assert hints_naming(found, jorge) == [], context_
    assert hints_naming(pop_of(h, jorge), elena) == [], context_


def test_the_sample_the_recycled_mobile_is_not_shared_on_the_new_holders_screen_pop() -> None:
    """F14 as reported: Jorge's line, his changed line, Elena's line giving M1, her call; M1 looked up."""
    export = Export("mobile")
    blocks = export.blocks()
    h = run([item for block in blocks.values() for item in block])
    node = h.local.store.nodes[h.key(*export.key)]
    assert isinstance(node, IdentifierState) and node.released_from  # the graph knows Jorge held it until night 3
    check(h, export, "sample")


@pytest.mark.parametrize("partitions", [1, 3])
@pytest.mark.parametrize(("kind", "master"), CASES, ids=[f"{k}-{'master' if m else 'billing'}" for k, m in CASES])
def test_every_arrival_order_and_kind_leaves_the_former_holder_off_the_hint(kind: str, master: bool,
                                                                           partitions: int) -> None:
    export = Export(kind, master)
    blocks = export.blocks()
    for number, order in enumerate(ORDERS[::3] if partitions == 3 else ORDERS):
        items = [item for name in order for item in blocks[name]]
        h = run(items) if partitions == 1 else run(items, partitions=3, seed=number)
        check(h, export, (kind, master, order, partitions))


def test_an_operator_release_from_the_former_holder_says_the_same() -> None:
    """Jorge's line (night 1), an operator releases M1 from him, Elena's line gives it: hers, not shared (a guard:
    the release forgets his evidence already, ``release.on_disown``)."""
    export = Export("mobile")
    h = run(export.line("jorge", export.first, 1))
    release(h, holder(h, "jorge"), export.key, datetime(2026, 11, 4, 9, tzinfo=UTC))
    for item in export.line("elena", export.first, 3):
        h.feed(item[0], topic=item[1])
    check(h, export, "release")


@pytest.mark.parametrize("order", closure_path.ORDERS)
def test_a_closed_contracts_number_given_to_the_next_holder_is_not_shared_either(order: tuple[str, ...]) -> None:
    """Tester24 F14's path: Claire's contract closed, the next export gives her mobile to Nina."""
    blocks = closure_path.blocks()
    h = closure_path.run([item for name in order for item in blocks[name]])
    claire, nina = closure_path.holder(h, "claire"), closure_path.holder(h, "nina")
    found = lookup(h, "PHONE", closure_path.MOBILE)
    assert found["customer_id"] == nina, order
    assert found["shared_identifier"] is None, (order, found["shared_identifier"])
    assert hints_naming(pop_of(h, claire), nina) == [], order


def test_a_housemate_of_the_new_holder_still_makes_it_shared_without_the_former_holder() -> None:
    """After the recycle, Ann (another person: her own name and birth date) gives M1 on her own account's line: M1 is
    used by Elena and Ann, and Jorge is not named."""
    export = Export("mobile")
    blocks = export.blocks()
    h = run([item for block in blocks.values() for item in block])
    housemate = event([("ACCOUNT", "7000007"), export.key], ANN, 0)
    at = datetime(2026, 11, 6, 10, tzinfo=UTC)
    housemate.value["envelope"].update(occurred_at=at, received_at=at)
    h.feed(housemate, topic="identity.observed.v1")
    jorge, elena = holder(h, "jorge"), holder(h, "elena")
    hint = lookup(h, *export.key)["shared_identifier"]
    assert hint is not None and hint["people"] == 2, hint
    assert hint["customer_ids"][0] == elena and jorge not in hint["customer_ids"], hint
