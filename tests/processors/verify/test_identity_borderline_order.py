"""``omnibus verify``'s recomputation: a login, a phone-only counter visit and a call of one second (issue #8 pt 5).

The live processor took the login first and placed the visit on its customer; the recomputation reads its inputs by
topic and partition, so it may take the visit first and keep the phone apart (the module docstring of
``tests/processors/identity/graph/test_borderline_join_order.py`` has the shape). Both orders must group the identifiers
alike, or verify fails a healthy deployment ("groups apart in the recomputation, merged in the table").
"""

from __future__ import annotations

from processors.profile.book import ProfileBook
from processors.replay.identity import clusters, recompute
from tests.processors.identity.graph.test_alias import CONTACTS, OBSERVED
from tests.processors.identity.graph.test_borderline_join_order import COUNTER, WEB, blocks
from tests.processors.identity.support import matcher_settings
from tests.processors.verify.support import CONTACTS_IN, INPUT, SETTINGS, record

TOPICS = {OBSERVED: INPUT, CONTACTS: CONTACTS_IN}


def recomputed(first: int, second: int) -> dict[str, list[str]]:
    """The recomputation's customers (smallest member -> members) with block ``first``'s records read first."""
    parts = blocks()
    records = [record(TOPICS[topic], None, event, offset)
               for offset, (event, topic) in enumerate([*parts[first], *parts[second]])]
    return clusters(recompute(records, SETTINGS, matcher_settings(), ProfileBook([])).graph.store.nodes)


def test_the_login_read_first_groups_the_three_identifiers() -> None:
    assert [len(members) for members in recomputed(WEB, COUNTER).values()] == [3]


def test_the_visit_read_first_groups_them_as_the_login_read_first() -> None:
    assert recomputed(COUNTER, WEB) == recomputed(WEB, COUNTER)
