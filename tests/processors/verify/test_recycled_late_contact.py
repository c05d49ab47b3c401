"""``omnibus verify`` after a recycled number's previous holder's late contact that also brings an identifier nobody
held (``graph/saga.held_then``).

The reported sample: billing's full snapshot gives the number to Maria, a later one closes her account and gives it
to Pedro; her counter visit dated during her tenancy, uploaded after that, carries the number and a new e-mail. The
running identity placed it on a customer of its own holding the e-mail, and verify failed "identifiers are grouped
as the recomputation groups them" (the recomputation joined the e-mail to Maria's). Run through the processor and
recomputed, both ways of a late arrival and the kind's other contacts, on 1 and 3 partitions, it verifies, and the
e-mail is Maria's.
"""

from __future__ import annotations

import pytest

from tests.processors.identity.graph.test_recycled_late_contact_new_identifier import (
    BUSINESS,
    CONTACT_KINDS,
    CONTACTS,
    MARIA,
    NEW_EMAIL,
    OBSERVED,
    STEPS,
    steps,
)
from tests.processors.identity.support import matcher_settings
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import BUSINESS_IN, CONTACTS_IN, INPUT

TOPICS = {OBSERVED: INPUT, CONTACTS: CONTACTS_IN, BUSINESS: BUSINESS_IN}


def verified_run(order: tuple[str, ...], kind: str, *, partitions: int = 1, seed: int | None = None) -> Run:
    contact, _ = CONTACT_KINDS[kind]
    parts = steps(contact())
    run = Run(config=matcher_settings(), partitions=partitions, seed=seed, duplicates=0.1 if seed is not None else 0)
    for name in order:
        for event, topic in parts[name]:
            run.feed(event, TOPICS[topic], settle=seed is None)
    run.harness.local.run()
    report = run.verified()
    assert report.ok, report.lines()
    return run


def test_the_sample_verifies_and_the_email_is_hers() -> None:
    """Both snapshots, then her visit with the number and an e-mail nobody held."""
    run = verified_run(STEPS, "new-email")
    assert run.customer("EMAIL", NEW_EMAIL) == run.customer("ACCOUNT", MARIA)


@pytest.mark.parametrize("kind", list(CONTACT_KINDS))
@pytest.mark.parametrize("order", [STEPS, ("pedro", "closure", "first", "contact"), ("first", "contact", "closure",
                                                                                    "pedro")], ids="/".join)
def test_the_kind_verifies(order: tuple[str, ...], kind: str) -> None:
    verified_run(order, kind)


@pytest.mark.parametrize("seed", range(3))
def test_on_three_partitions_it_verifies(seed: int) -> None:
    verified_run(STEPS, "new-email", partitions=3, seed=seed)
