"""A portal user's Segment ``group`` naming a bank customer's record key (her IBAN as ``groupId``), read before the
same user's ``identify``: found by a new user on the running middleware (identity read the group's partition first),
issue #8 point 5.

In time order the identify makes the web user's customer and the group meets it and the account holder's in an
``offer``, weighed: an identify with an e-mail and a phone and no names stays apart (no trait agrees, the two e-mails
and phones differ), one with the holder's names joins her. Read group first, the group's join weighed the user id
(nothing of its own to weigh against the holder) with the account alone and merged, and the identify then joined the
holder through the user id unweighed: a stranger's identifiers on her screen pop, and ``omnibus verify`` failed. Now
the identify, which met the holder only through an identifier a later event brought, is weighed again as time order
weighed it (``weigh_again._met_none``). The same for a ``groupId`` read as a card or a customer number
(``group_identifier_type``), in every arrival order, on 1 and 3 partitions.
"""

from __future__ import annotations

from typing import Any

import pytest

from bus.serde import Event
from tests.processors.identity.graph.test_alias import every_order
from tests.processors.identity.graph.test_alias import run as alias_run
from tests.processors.identity.graph.test_customer_number import LINES, master_line, portal
from tests.processors.identity.support import Harness

JULIE = LINES["julie"]
USER, EMAIL, PHONE = "u-web-41", "regd.41@example.es", "06 99 00 01 41"
# groupId as the portal sends it -> the identifier type the deployment reads it as (``group_identifier_type``).
GROUPS = {"ACCOUNT": JULIE["iban"], "CARD": JULIE["card_number"], "CUSTOMER_NUMBER": JULIE["customer_id"]}
STRANGER: dict[str, str] = {"email": EMAIL, "phone": PHONE}  # the tester's identify: no names
HERSELF: dict[str, str] = {"email": EMAIL, "phone": PHONE, "firstName": JULIE["given_name"],
                           "lastName": JULIE["family_name"]}


def calls(kind: str, traits: dict[str, str]) -> list[tuple[Event, str]]:
    """The identify (09:01) and the group (09:02) of one portal session, as the web adapter publishes them."""
    web: dict[str, Any] = {"group_identifier_type": kind}
    identify = portal({"type": "identify", "userId": USER, "messageId": "m-1", "traits": traits}, 1, **web)
    group = portal({"type": "group", "userId": USER, "messageId": "m-2", "groupId": GROUPS[kind]}, 2, **web)
    assert len(identify) == len(group) == 1
    return [*identify, *group]


def run(events: list[tuple[Event, str]], order: tuple[int, ...], partitions: int = 1,
        seed: int | None = None) -> Harness:
    """The master records (settled), then ``events`` in ``order`` (``test_alias.run``)."""
    masters = [*master_line("alice", 2), *master_line("julie", 6), *master_line("gina", 7)]
    return alias_run(events, order, partitions=partitions, seed=seed, before=masters)


def sides(h: Harness, kind: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(the holder's customer, the web user's, the web user's e-mail's, the web user's phone's)."""
    return (h.customer(kind, GROUPS[kind]), h.customer("USER_ID", USER), h.customer("EMAIL", EMAIL),
            h.customer("PHONE", "+33699000141"))


@pytest.mark.parametrize("kind", sorted(GROUPS))
@pytest.mark.parametrize(("order", "partitions", "seed"), every_order(2))
def test_a_group_naming_a_record_key_keeps_a_web_user_without_names_apart_in_every_order(
        kind: str, order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    events = calls(kind, STRANGER)
    h = run(events, order, partitions, seed)
    holder, user, email, phone = sides(h, kind)
    assert holder is not None and user == email == phone != holder
    assert holder == h.customer("EMAIL", JULIE["email"])  # her own e-mail stays hers
    assert h.local.clusters() == run(events, (0, 1)).local.clusters()  # time order's


@pytest.mark.parametrize("kind", sorted(GROUPS))
@pytest.mark.parametrize(("order", "partitions", "seed"), every_order(2))
def test_a_group_naming_a_record_key_joins_a_web_user_with_the_holders_names_in_every_order(
        kind: str, order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    events = calls(kind, HERSELF)
    h = run(events, order, partitions, seed)
    holder, user, email, phone = sides(h, kind)
    assert holder is not None and user == email == phone == holder
    assert h.local.clusters() == run(events, (0, 1)).local.clusters()  # time order's
