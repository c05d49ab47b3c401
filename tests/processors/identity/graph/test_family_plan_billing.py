"""Tester18 F4: a telecom family plan from an ordinary billing export; each person's own mobile stays theirs.

Frank, Grace and Hugo Bernard each identify on the web (own user id, e-mail, mobile, name, birth date). The billing
export has one ``ProductSubscribed`` line per MSISDN of the family account, with the ACCOUNT holder's identity
(Frank's name and birth date) and the line's mobile, activated before the web sign-ups. The line naming Frank
through Grace's mobile is conflicting evidence when Grace holds that mobile: the mobile does not move to Frank, nor
does it glue Grace to Frank, whatever the arrival order and whatever the event times. Grace's and Hugo's calls from
their own mobiles land on them.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.serde import Event
from processors.identity.graph.state import IdentifierState
from tests.processors.identity.graph.test_alias import CONTACTS, OBSERVED, segment
from tests.processors.identity.graph.test_family_plan import call, feed, landed
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, envelope, interaction, matcher_settings

BUSINESS = "business.events.v1"
ACCOUNT = "FAM-T18"
PEOPLE = {  # user id -> the web identify's traits; the mobiles in E.164
    "frank": {"firstName": "Frank", "birthday": "1968-08-08", "phone": "+33611001821"},
    "grace": {"firstName": "Grace", "birthday": "1971-03-15", "phone": "+33611001822"},
    "hugo": {"firstName": "Hugo", "birthday": "2005-11-30", "phone": "+33611001823"},
}
LINES = {"frank": "S-T18-F1", "grace": "S-T18-F2", "hugo": "S-T18-F3"}  # the user of each line -> its subscription


def email(user: str) -> str:
    return f"{user}.bernard@t18.example"


def identify(user: str, minutes: int) -> tuple[Event, str]:
    traits = {**PEOPLE[user], "lastName": "Bernard", "email": email(user)}
    [item] = segment({"type": "identify", "userId": f"t18-{user}", "messageId": f"id-{user}", "traits": traits})
    item[0].value["envelope"]["occurred_at"] = envelope(minutes=minutes)["occurred_at"]
    return item


def billing_line(user: str, activated: datetime, own: str = "phone") -> list[tuple[Event, str]]:
    """What ``import-batch`` publishes for the family-plan line ``user`` uses: the holder Frank's identity beside
    ``user``'s own mobile (``own="phone"``) or e-mail (``"email"``)."""
    fields = {"account_number": ACCOUNT, "subscription_id": LINES[user], "product_code": "MOB-FAM",
              "product_name": "Family plan line", "effective_at": activated.isoformat(),
              "given_name": "Frank", "family_name": "Bernard", "birth_date": PEOPLE["frank"]["birthday"],
              own: PEOPLE[user]["phone"] if own == "phone" else email(user)}
    mapped = map_business(BusinessRecord("ProductSubscribed", fields, f"fam.csv:{user}", activated),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


# When the lines were activated: before, between and after the web sign-ups (1 March 2025, 9:00, 9:01, 9:02).
DATES = {"lines-before-web": datetime(2025, 2, 10, 9, tzinfo=UTC),
         "lines-between-web": datetime(2025, 3, 1, 9, 1, 30, tzinfo=UTC),
         "lines-after-web": datetime(2025, 3, 1, 12, tzinfo=UTC)}


def run(activated: datetime, order: tuple[int, ...], ivr_account: str | None = None) -> None:
    """Frank's, Grace's and Hugo's identifies (blocks 0-2) and the billing lines of their mobiles (3-5) in ``order``,
    then a call from each mobile (Grace's first) whose IVR took ``ivr_account`` (None: nothing): each on its caller,
    each mobile its person's alone."""
    blocks = ([[identify(user, minute)] for minute, user in enumerate(PEOPLE)]
              + [billing_line(user, activated) for user in PEOPLE])
    h = Harness(matcher_settings())
    for index in order:
        feed(h, blocks[index])
    calls = {user: call(PEOPLE[user]["phone"], account=ivr_account) for user in ("grace", "hugo", "frank")}
    for items in calls.values():
        feed(h, items)
    h.local.check_consistent()
    people = {user: root(h, h.customer("USER_ID", f"t18-{user}") or "") for user in PEOPLE}
    assert len(set(people.values())) == 3, order
    assert h.customer("ACCOUNT", ACCOUNT) == people["frank"], order
    for user, traits in PEOPLE.items():
        node = h.local.store.nodes[h.key("PHONE", traits["phone"])]
        assert isinstance(node, IdentifierState) and node.owner is not None, (user, order)
        assert root(h, node.owner) == people[user], (user, order)
        # The holder's name beside it is no one's use of it: not a two-people (household) identifier.
        assert not node.shared and len(node.people) == 1, (user, order)
        assert landed(h, calls[user]) == {people[user]}, (user, order)


@pytest.mark.parametrize("activated", DATES.values(), ids=DATES.keys())
def test_the_sample_each_members_own_mobile_stays_theirs(activated: datetime) -> None:
    """F4 as reported: the web identifies, then the export's three lines, then a call from each mobile."""
    run(activated, (0, 1, 2, 3, 4, 5))


@pytest.mark.parametrize("activated", DATES.values(), ids=DATES.keys())
def test_every_arrival_order_of_identifies_and_lines_gives_each_member_their_mobile(activated: datetime) -> None:
    """The lines before, between and after the web sign-ups (arrival order), dated before or after them: the
    reverse order and a fixed draw of the 720 (all 720 passed before and after; about a minute per date here)."""
    orders = list(itertools.permutations(range(6)))
    for order in [orders[-1], *random.Random(18).sample(orders, 14)]:
        run(activated, order)


@pytest.mark.parametrize("activated", DATES.values(), ids=DATES.keys())
def test_a_call_whose_ivr_took_the_family_account_lands_on_the_mobiles_person_in_every_arrival_order(
        activated: datetime) -> None:
    """F4's call: Grace's mobile with the account the IVR took (``deciding.used_by_others``). The lines name the
    holder only, so the account is no household's by its people; but the holder was kept apart through her mobile,
    so the account is one she uses too, and her mobile decides (it landed on Frank before, in every order). The
    sample, the reverse and a fixed draw of the 720 orders (all 720 pass for each date)."""
    orders = list(itertools.permutations(range(6)))
    for order in [orders[0], orders[-1], *random.Random(84).sample(orders, 10)]:
        run(activated, order, ACCOUNT)


def test_the_kind_a_members_own_email_on_the_holders_lines_decides_against_the_account() -> None:
    """The same with another own type: the lines (a joint bank account's export naming the first holder) carry
    each member's e-mail, and a contact that tells no person carries the account and Grace's e-mail."""
    orders = list(itertools.permutations(range(6)))
    for order in [orders[0], orders[-1], *random.Random(85).sample(orders, 6)]:
        blocks = ([[identify(user, minute)] for minute, user in enumerate(PEOPLE)]
                  + [billing_line(user, DATES["lines-after-web"], "email") for user in PEOPLE])
        h = Harness(matcher_settings())
        for index in order:
            feed(h, blocks[index])
        contact = [(interaction([("ACCOUNT", ACCOUNT), ("EMAIL", email("grace"))], minutes=24 * 60), CONTACTS)]
        feed(h, contact)
        h.local.check_consistent()
        people = {user: root(h, h.customer("USER_ID", f"t18-{user}") or "") for user in PEOPLE}
        assert len(set(people.values())) == 3, order
        assert h.customer("ACCOUNT", ACCOUNT) == people["frank"], order
        assert h.customer("EMAIL", email("grace")) == people["grace"], order
        assert landed(h, contact) == {people["grace"]}, order
