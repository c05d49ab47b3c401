"""``omnibus verify`` after a counter transaction corrected with another customer's phone (``graph/vacate.py``).

The reported sample: the correction's customer kept the billing holder's phone after its contact moved to the first
upload's customer, and his calls landed on it. Run through the processor and recomputed, with the phone given back,
in every arrival order of the two versions and his call, it verifies.
"""

from __future__ import annotations

import pytest

from tests.processors.identity.graph.test_corrected_versions import CONTACTS, HANDOFFS, OBSERVED
from tests.processors.identity.graph.test_vacate import JUAN_PHONE, LUIS_PHONE, PHONE_ORDERS, billing, scene
from tests.processors.identity.support import matcher_settings
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import CONTACTS_IN, HANDOFFS_IN, INPUT

TOPICS = {OBSERVED: INPUT, CONTACTS: CONTACTS_IN, HANDOFFS: HANDOFFS_IN}


@pytest.mark.parametrize("order", PHONE_ORDERS, ids="-".join)
def test_a_correction_to_a_billing_holders_phone_verifies(order: tuple[str, ...]) -> None:
    items = scene(("PHONE", JUAN_PHONE), ("PHONE", LUIS_PHONE), billing([("PHONE", LUIS_PHONE)]))
    run = Run(config=matcher_settings())
    for name in order:
        for event, topic in items[name]:
            run.feed(event, TOPICS[topic])
    report = run.verified()
    assert report.ok, report.lines()
