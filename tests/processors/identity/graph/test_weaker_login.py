"""tester27 F1: of two portal logins that reach a bank's master record, the one its evidence agrees with keeps it.

Jean Moreau's core-banking line (customer number, account, mobile, e-mail, name, birth date) is his master record. A
portal login that carries only his e-mail (no name, no phone) joins the record at the e-mail's ``login`` level. When
Jean logs in with his own user id, his e-mail, name, birth date and mobile (about +23 bits), the one-login limit
refused him, or his earlier-dated login displaced him, and his web-only customer took the record's mobile; which login
kept the record depended on the arrival order, and a rebuild disagreed with the running graph. Now the login the
evidence agrees with keeps the record, the e-mail-only login leaves for a customer of its own (announced), and the
record keeps its mobile and e-mail, in every arrival order and interleaving (``graph/weaker_login.py``,
``graph/master.py``). The events are what the legacy and web adapters' mappers publish.
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest

from adapters.web.mapper import SegmentMapper
from processors.identity.graph.outputs import Refused
from processors.identity.rules import MAX_PER_CUSTOMER
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_joint_holders import feed
from tests.processors.identity.graph.test_keypad_customer_number import CALLED, PLAIN
from tests.processors.identity.graph.test_master_record import EMAIL, MOBILE, TOPICS, Items, holder, master_record
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

JEAN = {"firstName": "Jean", "lastName": "Moreau", "birthday": "1970-04-12"}


def identify(user: str, minutes: int, **traits: str) -> Items:
    """What the web adapter publishes for a portal identify ``minutes`` after the export's first calls."""
    at = CALLED + timedelta(minutes=minutes)
    message = {"type": "identify", "userId": user, "messageId": f"m-{user}", "timestamp": at.isoformat(),
               "traits": traits}
    mapped = SegmentMapper(web_settings(), TOPICS, PLAIN)(message, source="portal-web", received_at=at)
    return [(out.event, str(out.topic).removeprefix(f"{TOPICS.prefix}.")) for out in mapped.events]


def weak(minutes: int) -> Items:
    return identify("web-weak", minutes, email=EMAIL)


# What Jean's own login tells: all of it (the report), or less but more than the e-mail.
STRONG = {"everything": {"email": EMAIL, "phone": MOBILE, **JEAN},
          "name-and-phone": {"email": EMAIL, "phone": MOBILE, "firstName": "Jean", "lastName": "Moreau"},
          "name-and-birth-date": {"email": EMAIL, **JEAN}}


def check(h: Harness) -> None:
    """Jean's login on his record with its mobile and e-mail, the weaker login on a customer of its own, two
    customers."""
    jean = holder(h)
    assert root(h, h.customer("USER_ID", "web-jean") or "") == jean
    other = root(h, h.customer("USER_ID", "web-weak") or "")
    assert other not in ("", jean)
    assert root(h, h.customer("PHONE", MOBILE) or "") == jean
    assert root(h, h.customer("EMAIL", EMAIL) or "") == jean
    assert len({root(h, customer) for customer in h.local.roots()}) == 2


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("weak_at", [10, -600], ids=["weak-after-export", "weak-hours-before"])
@pytest.mark.parametrize("told", sorted(STRONG))
def test_f1_the_holders_own_login_keeps_his_record_in_every_order(told: str, weak_at: int,
                                                                  order: tuple[int, ...]) -> None:
    """F1: the record, the e-mail-only login and Jean's own login (what he tells: the report's, or less), the weak
    login dated after the export or hours before it, in every arrival order."""
    weak_login, strong_login = weak(weak_at), identify("web-jean", 30, **STRONG[told])
    groups = [master_record(), weak_login, strong_login]
    h = Harness(settings())
    feed(h, [item for index in order for item in groups[index]])
    h.local.check_consistent()
    check(h)


def test_f1_the_weaker_login_leaves_announced() -> None:
    """The report's order (the record, the e-mail-only login, Jean's): the weaker login leaves the record with a
    ``max-per-customer`` refusal naming its new customer; no review is asked."""
    weak_login, strong_login = weak(10), identify("web-jean", 30, **STRONG["everything"])
    h = Harness(settings())
    feed(h, [*master_record(), *weak_login, *strong_login])
    left = [refusal for refusal in h.decisions(Refused)
            if refusal.identifier == "USER_ID:web-weak" and refusal.lineage.rule == MAX_PER_CUSTOMER]
    assert left and root(h, left[0].other_customer_id or "") == root(h, h.customer("USER_ID", "web-weak") or "")


@pytest.mark.parametrize("seed", range(6))
def test_f1_the_rebuild_and_the_running_graph_agree(seed: int) -> None:
    """``omnibus verify``'s rebuild (in order, settled one by one) and the running graph (3 partitions, shuffled,
    with copies) give the same customers."""
    items = [*master_record(), *weak(10), *identify("web-jean", 30, **STRONG["everything"])]
    rebuilt = Harness(settings())
    feed(rebuilt, items)
    live = Harness(settings(), partitions=3, seed=seed, duplicates=0.1)
    for event, topic in random.Random(seed).sample(items, len(items)):
        live.feed(event, topic, settle=False)
    live.local.run()
    live.local.check_consistent()
    assert live.local.clusters() == rebuilt.local.clusters()
