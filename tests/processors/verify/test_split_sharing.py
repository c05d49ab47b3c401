"""The verifier and a split's shared identifiers (tester22 F6): after an operator's wrong merge of two tenants and
its split, the flat's landline must name the split-off tenant as the recomputation (which replays neither) does."""

from __future__ import annotations

from dataclasses import replace

from bus.config import TopicSettings
from processors.identity.announcements import Announcer
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.graph.outputs import Send, Split
from processors.identity.graph.state import IdentifierState
from processors.profile.book import ProfileBook
from processors.replay import Replayed
from processors.replay.identity import Recomputed, recompute
from processors.verify.split_sharing import SPLIT_SHARING
from tests.processors.identity.support import matcher_settings, observed
from tests.processors.verify.support import EVENTS, INPUT, SETTINGS, record
from tests.processors.verify.test_merges import merged
from tests.processors.verify.test_reviews import checked, outputs_of

LANDLINE = ("PHONE", "+33478112233")
TENANTS = [  # Bruno's record first: he keeps the landline; Alice and Chloé are kept apart through it
    ("EL-100020", "bruno.leroy@example.net", {"given_name": "Bruno", "family_name": "Leroy", "birth_date": "1975-07-02"}),
    ("EL-100001", "alice.martin@example.net", {"given_name": "Alice", "family_name": "Martin",
                                               "birth_date": "1980-03-14"}),
    ("EL-100030", "chloe.girard@example.net", {"given_name": "Chloé", "family_name": "Girard",
                                               "birth_date": "1992-06-15"}),
]


def tenants() -> Recomputed:
    inputs = []
    for offset, (account, email, traits) in enumerate(TENANTS):
        event = observed([("ACCOUNT", account), ("EMAIL", email), LANDLINE], event_id=f"e{offset}", minutes=offset)
        event.value["traits"] = traits
        inputs.append(record(INPUT, account, event, offset))
    return recompute(inputs, SETTINGS, matcher_settings(), ProfileBook([]))


def keys(run: Recomputed, index: int) -> list[str]:
    return sorted(key for key in run.identifiers_of[f"e{index}"] if not key.startswith("PHONE:"))


def merged_and_split(run: Recomputed) -> list[Replayed]:
    """The operator's merge of Alice and Chloé, then the split of Chloé's account and e-mail; their announcements."""
    events = merged(run, keys(run, 1)[0], keys(run, 2)[0])
    graph = run.graph
    graph.submit([Send(str(graph.customer_of(keys(run, 2)[0])), SplitCustomer(keys(run, 2), "wrong merge", "split-1",
                                                                              10**15))])
    graph.run()
    announcer = Announcer(TopicSettings(prefix="v"), lambda ref: None)  # type: ignore[arg-type,return-value]
    split = [item.event for d in graph.decisions if isinstance(d, Split) for item in announcer.outgoing(d)]
    return events + [Replayed(EVENTS, 0, 200 + offset, b"c", event) for offset, event in enumerate(split)]


def test_a_split_off_tenant_the_landline_names_again_passes() -> None:
    recomputed, running = tenants(), tenants()
    events = merged_and_split(running)
    report = checked(recomputed, replace(outputs_of(running, []), customer_events=events))
    check = report.check(SPLIT_SHARING)
    assert check.checked == 1 and not check.failures, report.lines()


def test_a_landline_that_no_longer_names_the_split_off_tenant_fails() -> None:
    """The table as F6 left it: the landline's node names Alice's customer and Chloé's old id, not her new one."""
    recomputed, running = tenants(), tenants()
    events = merged_and_split(running)
    chloe = running.graph.customer_of(keys(running, 2)[0])
    phone = running.graph.store.nodes[f"{LANDLINE[0]}:{LANDLINE[1]}"]
    assert isinstance(phone, IdentifierState) and chloe in phone.kept_apart
    phone.kept_apart = [customer for customer in phone.kept_apart if customer != chloe]
    report = checked(recomputed, replace(outputs_of(running, []), customer_events=events))
    (failure,) = report.check(SPLIT_SHARING).failures
    assert "PHONE:" in failure and str(chloe) in failure
