"""A recycled number's late untold call from the previous holder's tenancy, after a named contact of hers.

Claire's line gives her the landline and her e-mail; at a counter she gives the landline and her e-mail (a contact
identity places on her by the e-mail, with a case); billing closes her account and gives the landline to Daniel.
Then, arriving last, an untold call from the landline (nothing from the IVR) dated during her tenancy, with a case:
it occurred while the number was hers, so it and its case are hers (``graph/recycle.py`` ``held_then``), as they are
without her counter visit (``test_recycled_tenant.py``). Two timings: days apart, and the running stack's (seconds
apart, the lines as an outbox relays them: account, name, phone and e-mail; the tracker's status event of each case).
The running processor has the fast path (``processors.identity.fastpath``): a repeat contact whose identifiers its
view reads on one customer goes straight to that customer's root, which applies it unless an identifier's member rank
is later than the event. Daniel adopted the landline with the rank the giver had (Claire's earliest), so her late
call passed there and landed on his screen pop, with its case, with or without her visit (on main too); the
recycled claim's adoption now ranks it from the instant Daniel took it over, and the call goes the slow way to the
node, which sends it to her (``recycle.held_then``).
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper_ctr import map_ctr
from bus.config import TopicSettings
from processors.identity.fastpath import AssignmentView
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.graph.test_handoff_moves import HANDOFFS, handoffs
from tests.processors.identity.graph.test_number_recycling import run
from tests.processors.identity.graph.test_recycled_tenant import (
    IVR_STAYS,
    _id,
    LANDLINE,
    NUMBER,
    PEOPLE,
    STEPS,
    TIMINGS,
    Item,
    Timing,
    _legacy,
    _topic,
    call,
    check,
    closure,
    holder,
    line,
    steps,
)
from tests.processors.identity.support import Harness, matcher_settings

ORDERED = TIMINGS["ordered"]  # her line 20/11, closure 30/11, his line 1/12
T0 = datetime(2026, 12, 4, 22, 39, 8, tzinfo=UTC)
SECONDS = Timing(T0, T0, T0 + timedelta(seconds=8), T0 + timedelta(seconds=8), T0 + timedelta(seconds=12))


def email(person: str) -> str:
    _, _, given, family, _ = PEOPLE[person]
    return f"{given.lower()}.{family.lower()}@example.fr"


def named_visit(at: datetime) -> list[Item]:
    """Claire at the counter with the landline and her e-mail, nothing else, and a case."""
    native = {"event_id": "visit-claire", "kind": "transaction", "occurred_at": at.isoformat(), "agent_id": "clerk-3",
              "identifiers": [{"type": "PHONE", "value": LANDLINE}, {"type": "EMAIL", "value": email("claire")}],
              "customer": {},
              "transaction": {"id": "TX-claire", "type": "final-bill", "status": "completed", "counter_id": "C1",
                              "handoff": {"kind": "final-bill", "summary": "Final bill"}}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    return [(o.event, _topic(o.event, o.topic))
            for o in mapper(native, terminal_id="CT-0001-01", branch_id="0001", received_at=at).events]


def outbox_line(person: str, at: datetime) -> list[Item]:
    """An outbox ``AccountOpened``: the account, the name, the landline and the e-mail (no customer number)."""
    account, _, given, family, _ = PEOPLE[person]
    fields = {"account_number": account, "given_name": given, "family_name": family, "phone": LANDLINE,
              "email": email(person), "account_type": "residential", "service_tier": "standard"}
    return _legacy("AccountOpened", fields, f"outbox:{account}", at)


def untold_call(at: datetime) -> list[Item]:
    """Claire's untold CTR from the landline with a case, initiated at ``at``: the sample's timestamps squeezed a
    hundredfold (a call of 2.8 s), its last update 50 s later (when it arrives)."""
    record = ctr(ContactId="ctr-claire-late", CustomerEndpoint={"Address": NUMBER, "Type": "TELEPHONE_NUMBER"},
                 Attributes={"omnibus_handoff_kind": "meter-read", "omnibus_handoff_summary": "Final reading"})
    start = datetime(2024, 3, 5, 9, 9, 31, tzinfo=UTC)

    def moved(match: re.Match[str]) -> str:
        stamp = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        return (at + (stamp - start) / 100).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    native = json.loads(re.sub(r"2024-03-05T09:\d\d:\d\dZ", moved, json.dumps(record)))
    native["LastUpdateTimestamp"] = (at + timedelta(seconds=50)).isoformat().replace("+00:00", "Z")
    return [(o.event, _topic(o.event, o.topic)) for o in map_ctr(native, context()).events]


def with_status(items: list[Item]) -> list[Item]:
    """``items`` and the tracker's status event of each case they open (naming its identifiers, no customer)."""
    created = [event for event, _ in items if event.schema.endswith("HandoffCreated")]
    return [*items, *((event, HANDOFFS) for opened in created for event in status_events(opened))]


def both_hers(h, visit: list[Item], late: list[Item]) -> None:
    check(h, visit, "visit")
    check(h, late, "late call")
    assert handoffs(h, holder(h, "daniel")) == []
    assert sorted(handoffs(h, holder(h, "claire"))) == ["call:amazon-connect:ctr-claire-late",
                                                        "counter:CT-0001-01:TX-claire"]


def test_a_late_untold_call_from_her_tenancy_after_her_named_visit_is_hers() -> None:
    visit, late = named_visit(datetime(2026, 11, 25, 9, tzinfo=UTC)), call(datetime(2026, 11, 26, 10, tzinfo=UTC))
    h = run([*line("claire", ORDERED.claire), *visit, *closure(ORDERED), *line("daniel", ORDERED.daniel), *late])
    check(h, visit, "visit")
    check(h, late, "late call")


@pytest.mark.parametrize("seed", [None, 0, 1, 2, 3])
def test_as_the_running_stack_timed_it_the_late_call_and_its_case_are_hers(seed: int | None) -> None:
    """Her visit 4 s after her line, the call 5 s after (ended before the closure at 8 s), his line at 12 s; settled
    in this order (``seed`` None) or interleaved on 3 partitions with copies."""
    visit = with_status(named_visit(T0 + timedelta(seconds=4)))
    late = with_status(untold_call(T0 + timedelta(seconds=5)))
    items = [*outbox_line("claire", SECONDS.claire), *visit, *closure(SECONDS), *outbox_line("daniel", SECONDS.daniel),
             *late]
    both_hers(run(items) if seed is None else run(items, partitions=3, seed=seed), visit, late)


def fast(items: list[Item], *, partitions: int = 1, seed: int | None = None) -> Harness:
    """``items`` in this order through the fast path as the running processor has it: each settled (``seed`` None),
    or interleaved on ``partitions`` with copies (``run``)."""
    return run(items, partitions=partitions, seed=seed, view=AssignmentView())


@pytest.mark.parametrize("visit_first", [True, False], ids=["after-her-visit", "no-visit"])
def test_through_the_fast_path_the_late_call_and_its_case_are_hers(visit_first: bool) -> None:
    """The reported sample (``after-her-visit``) and the rest of the kind: her late untold call, her visit or not."""
    visit = with_status(named_visit(T0 + timedelta(seconds=4))) if visit_first else []
    late = with_status(untold_call(T0 + timedelta(seconds=5)))
    h = fast([*outbox_line("claire", SECONDS.claire), *visit, *closure(SECONDS),
              *outbox_line("daniel", SECONDS.daniel), *late])
    if visit:
        both_hers(h, visit, late)
    check(h, late, "late call")
    assert handoffs(h, holder(h, "daniel")) == []


def test_through_the_fast_path_his_own_call_after_his_line_is_his() -> None:
    """The other side: an untold call from the landline after Daniel's line goes to him (the fast path or not)."""
    visit = with_status(named_visit(T0 + timedelta(seconds=4)))
    his = with_status(untold_call(T0 + timedelta(seconds=20)))
    h = fast([*outbox_line("claire", SECONDS.claire), *visit, *closure(SECONDS),
              *outbox_line("daniel", SECONDS.daniel), *his])
    assert handoffs(h, holder(h, "daniel")) == ["call:amazon-connect:ctr-claire-late"]


def _fast_orders() -> list[object]:
    return [pytest.param(order, kind, id=f"{'/'.join(order)}-{kind}")
            for order in itertools.permutations(STEPS) for kind in ("call", "untold-counter", "counter", "web")]


@pytest.mark.parametrize(("order", "kind"), _fast_orders())
@pytest.mark.parametrize("timing", list(TIMINGS))
def test_through_the_fast_path_every_arrival_order_leaves_claires_contact_with_her(order: tuple[str, ...],
                                                                                    kind: str, timing: str) -> None:
    """``test_recycled_tenant.py``'s every arrival order and kind of Claire's contact, through the fast path. Where
    Daniel held the number before Claire's older line came (her closure and his line first), her line lowered his
    member rank of it (``rank_node.on_rekey``): the records' give-back raises it again to the instant he took it over
    (``held_before.on_give_back``), so her untold contact goes the slow way to her."""
    parts = steps(TIMINGS[timing], kind)
    check(fast([item for name in order for item in parts[name]]), parts["contact"], order, own=kind == "web",
          ivr=order not in IVR_STAYS and kind != "untold-counter")


# Her closure and his line came first: Daniel held the number when her older line came and lowered his member rank.
HE_HELD_IT = [("closure", "daniel-line", "claire-line", "contact"), ("daniel-line", "closure", "claire-line", "contact")]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("order", HE_HELD_IT, ids=_id)
@pytest.mark.parametrize("kind", ["call", "untold-counter"])
def test_through_the_fast_path_on_partitions_with_copies_her_untold_contact_is_hers(order: tuple[str, ...], kind: str,
                                                                                   seed: int) -> None:
    """Interleaved, the call's IVR record may be resolved before her line reached the number: it stays on him, as
    without the fast path (``held_before.py``'s "Not covered"); the rest of her contact is hers."""
    parts = steps(TIMINGS["ordered"], kind)
    check(fast([item for name in order for item in parts[name]], partitions=3, seed=seed), parts["contact"],
          (order, seed), ivr=False)


@pytest.mark.parametrize("order", HE_HELD_IT, ids=_id)
def test_her_older_named_call_after_the_records_decided_leaves_his_rank_and_her_next_call_hers(
        order: tuple[str, ...]) -> None:
    """Her named call from before her line comes after the records decided he holds the number from his line on: it
    is hers (``recycle.held_then``) and ranks nothing on the number (a stale visit lowers no rank); then an untold call
    of hers, from between her line and his, goes the slow way to her too."""
    parts = steps(TIMINGS["ordered"])
    older = call(ORDERED.claire - timedelta(days=2), named=True)
    between = untold_call(ORDERED.claire + timedelta(days=3))
    h = fast([*(item for name in order[:-1] for item in parts[name]), *older, *between])
    check(h, older, "older call")
    check(h, between, "call between")
