"""The verifier after an operator takes a customer off an identifier's users (tester24 F13, ``graph/release.py``).

Sophie typed Claire's customer number from her billing mobile (a deployment that reads it): the call is placed on
Claire, kept apart through the mobile. The operator moves the call to Sophie (``move-contact``), or releases the
mobile from Claire, who does not hold it (``release --customer <Claire>``): Claire is off the mobile's users. Neither
changes who holds what, so ``omnibus verify``, whose recomputation replays neither, stays at exit 0.
"""

from __future__ import annotations

import pytest

from bus.serde import Event
from processors.identity.graph.messages.commands import ReleaseIdentifier
from tests.processors.identity.graph.test_joint_holders import CONTACTS as CONTACTS_TOPIC
from tests.processors.identity.graph.test_joint_holders import OBSERVED as OBSERVED_TOPIC
from tests.processors.identity.graph.test_keypad_customer_number import MOBILES, billing_line
from tests.processors.identity.graph.test_move_contact_users import typed
from tests.processors.identity.graph.test_release_users import hint, mobile
from tests.processors.identity.support import matcher_settings
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import BUSINESS_IN, CONTACTS_IN, INPUT

TOPICS = {OBSERVED_TOPIC: INPUT, CONTACTS_TOPIC: CONTACTS_IN, "business.events.v1": BUSINESS_IN}


def keypad_typo() -> tuple[Run, str, str]:
    """(run, Sophie, Claire): both lines, then Sophie's call with Claire's number, on Claire."""
    run = Run(config=matcher_settings())
    items: list[tuple[Event, str]] = [*billing_line("sophie", 5), *billing_line("claire", 6), *typed()]
    for event, topic in items:
        run.feed(event, TOPICS[topic])
    sophie, claire = run.customer("CUSTOMER_NUMBER", "C-770005"), run.customer("CUSTOMER_NUMBER", "C-770006")
    assert run.showing("ctr-0002") == claire and hint(run.harness, sophie) is not None
    return run, sophie, claire


@pytest.mark.parametrize("correction", ["move-contact", "release"])
def test_verify_stays_green_after_claire_is_taken_off_the_mobile(correction: str) -> None:
    run, sophie, claire = keypad_typo()
    before = run.verified()
    assert before.ok, before.lines()
    if correction == "move-contact":
        run.move("ctr-0002", ("CUSTOMER_NUMBER", "C-770005"))
    else:
        key = run.harness.key("PHONE", MOBILES["sophie"])
        run._command(claire, ReleaseIdentifier(key, "ops-3", "keypad typo", f"release-{run.commands}", run._at()))
    assert claire not in mobile(run.harness).kept_apart and hint(run.harness, sophie) is None
    report = run.verified()
    assert report.ok, report.lines()
