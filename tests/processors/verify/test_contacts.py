"""The contact checks on crafted runs (``processors.verify.contacts``): a contact missing or under another customer
fails; one left under a claim's giver, or without an identifier, is a figure listed by ids, not a failure."""

from __future__ import annotations

from processors.identity.graph.state import encode_state
from processors.profile.book import ProfileBook
from processors.replay.identity import recompute
from processors.verify.contacts import REFLECTED, REKEYED, SOMEWHERE
from tests.processors.identity.support import interaction, unlimited_settings
from tests.processors.verify.support import CONTACTS, CONTACTS_IN, SETTINGS, Run, checked, record


def test_a_contact_missing_or_under_another_customer_fails() -> None:
    run = Run()
    outputs = run.outputs()
    outputs.contacts = []
    report = checked(run, outputs)
    assert len(report.check(REFLECTED).failures) == 1
    outputs.contacts = [record(CONTACTS, "cus_other", run.call, 0)]
    report = checked(run, outputs)
    assert len(report.check(REKEYED).failures) == 1
    outputs.contacts = [record(CONTACTS, "cus_c", run.call, 0)]  # the merged-away key leads to the survivor
    assert checked(run, outputs).ok


def test_tester17_n7_a_contact_left_by_a_claim_is_counted_and_listed_by_ids() -> None:
    """tester17 N7: "contacts left by a claim 2" named no contact. A contact still under the customer the running node
    table kept apart from its identifier's owner (a claim's giver) holds, and is listed: contact id, event id, the
    customer it is under and the one its identifiers lead to, never an identifier value."""
    import msgspec

    from processors.identity.graph.state import IdentifierState
    from processors.replay import Replayed
    from processors.verify.contacts import LEFT_BY_A_CLAIM

    run = Run()
    outputs = run.outputs()
    call_id = run.call.value["envelope"]["event_id"]
    (key,) = run.recomputed.identifiers_of[call_id]
    node = run.recomputed.graph.store.nodes[key]
    assert isinstance(node, IdentifierState)
    outputs.changelog.append(Replayed(outputs.changelog[0].topic, 0, len(outputs.changelog), key.encode(), None,
                                      encode_state(msgspec.structs.replace(node, kept_apart=["cus_giver"]))))
    outputs.contacts = [record(CONTACTS, "cus_giver", run.call, 0)]
    report = checked(run, outputs)
    assert report.check(REKEYED).ok
    assert report.figures[LEFT_BY_A_CLAIM] == 1
    assert report.items[LEFT_BY_A_CLAIM] == [
        f"contact {run.call.value['interaction_id']} (event {call_id}) under cus_giver; its identifiers lead to cus_a"]
    assert "a@example.org" not in report.items[LEFT_BY_A_CLAIM][0]


def test_a_contact_without_an_identifier_is_counted_not_failed() -> None:
    """A call with the number withheld can reach no customer: a figure of its own, no failure (tester18 F5's check of
    contacts on some customer counts only those with an identifier)."""
    run = Run()
    withheld = interaction([], minutes=4)
    run.inputs.append(record(CONTACTS_IN, None, withheld, 1))
    run.recomputed = recompute(run.inputs, SETTINGS, unlimited_settings(), ProfileBook([]))
    report = checked(run, run.outputs())
    assert report.ok, report.lines()
    assert report.figures["contacts without an identifier"] == 1
    assert report.check(SOMEWHERE).checked == 1
    # tester25 F8: ``--list-figures`` lists it by its event id, as every figure that counts items
    assert report.items["contacts without an identifier"] == [f"contact {withheld.value['envelope']['event_id']}"]
