"""A contact an operator moved, then a split of the identifiers it carried, and the contact's later events (F4).

Ann and Bob merged by an operator; Bob's call (his phone only) shown on the merged screen pop; the agent moves it to
Carl's; Bob's account and phone are split off again. The call's second event (its ``InteractionRecorded`` after its
``CallCompleted``) may come at any point. Once the split has moved the phone, that event's saga reads the phone's
new customer and is applied there, which knew nothing of the move: the call was on Carl's screen pop and on the
split-off customer's. The split hands the source's notes of moved contacts to the new customer
(``SplitInit.moved_off``, ``moved_off.by_hand``), so the event follows the move from there too. The rule, in every
order of the three commands and every arrival point of the second event: the call is on Carl's screen pop only, and
each of its events was last placed under Carl.
"""

from __future__ import annotations

import itertools

import pytest

from processors.identity.graph.outputs import Resolved
from tests.processors.identity.graph.test_claim_node import ANN as CLAIM_ANN
from tests.processors.identity.graph.test_claim_node import BOB as CLAIM_BOB
from tests.processors.identity.graph.test_claim_node import PHONE as CLAIM_PHONE
from tests.processors.identity.graph.test_claim_node import observe as claim_node_observe
from tests.processors.identity.graph.test_move_contact import PHONE
from tests.processors.identity.graph.test_move_contact_order import call_completed
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import ident, interaction, matcher_settings, observed
from tests.processors.verify.operator_runs import Command, Run
from tests.processors.verify.support import CONTACTS_IN

ANN = [("ACCOUNT", "ACC-ANN"), ("EMAIL", "ann@f4.example")]
BOB = [("ACCOUNT", "ACC-BOB"), PHONE, ("EMAIL", "bob@f4.example")]  # the phone ``call_completed`` carries
CARL = [("ACCOUNT", "ACC-CARL")]

COMMANDS: dict[str, Command] = {
    "merge": lambda run: run.merge(ANN[0], BOB[0]),
    "move": lambda run: run.move("CALL-1", CARL[0]),
    "split": lambda run: run.split(BOB[0], BOB[1]),
}
CASES = [(order, late) for order in itertools.permutations(COMMANDS) for late in range(len(COMMANDS) + 1)]


def commanded(order: tuple[str, ...], late: int) -> tuple[Run, list[str]]:
    """The three customers, the call's ``CallCompleted``, the commands in ``order`` with the call's
    ``InteractionRecorded`` fed before the ``late``-th (after all of them when ``late`` is 3); the call's event ids."""
    run = Run()
    for minutes, identifiers in enumerate((ANN, BOB, CARL)):
        run.feed(observed(identifiers, minutes=minutes))
    ids = [run.feed(call_completed("CALL-1", 5), CONTACTS_IN)]
    second = interaction([BOB[1]], interaction_id="CALL-1", minutes=5)
    for position, name in enumerate(order):
        if position == late:
            ids.append(run.feed(second, CONTACTS_IN))
        COMMANDS[name](run)
    if late == len(order):
        ids.append(run.feed(second, CONTACTS_IN))
    return run, ids


@pytest.mark.parametrize(("order", "late"), CASES, ids=[f"{'-'.join(o)}@{late}" for o, late in CASES])
def test_the_moved_call_stays_whole_on_the_operators_choice(order: tuple[str, ...], late: int) -> None:
    run, ids = commanded(order, late)
    carl = run.customer(*CARL[0])
    showing = [key for key in run.harness.local.store.nodes
               if key.startswith("cus_") and "CALL-1" in contact_ids(run.harness, key)]
    assert showing == [carl]
    for event_id in ids:
        placed = [d.customer_id for d in run.harness.decisions(Resolved) if d.triggering_event_id == event_id]
        assert placed[-1] == carl, (event_id, placed)
    assert run.customer(*BOB[1]) != carl  # the identifiers stay where the merge and split put them
    run.harness.local.check_consistent()


# The same through a claim (``claim_node.on_give``): Ann's record made her customer with the family phone; the call
# from it (no IVR traits) is hers; Bob's earlier record (minute 1) claims the phone. The claimant is told the giver's
# notes of moved contacts (``Adopt.moved_off``).
CLAIM_STEPS: dict[str, Command] = {
    "move": lambda run: run.move("CALL-1", CARL[0]),
    "claim": lambda run: claim_node_observe(run.harness, "2000002", CLAIM_BOB, 1),
}
CLAIM_CASES = [(order, late) for order in itertools.permutations(CLAIM_STEPS) for late in range(len(CLAIM_STEPS) + 1)]


@pytest.mark.parametrize(("order", "late"), CLAIM_CASES, ids=[f"{'-'.join(o)}@{late}" for o, late in CLAIM_CASES])
def test_the_moved_call_stays_whole_when_a_claim_takes_its_phone(order: tuple[str, ...], late: int) -> None:
    run = Run(config=matcher_settings())
    claim_node_observe(run.harness, "1000001", CLAIM_ANN, 5)
    run.feed(observed(CARL, minutes=2))
    first = call_completed("CALL-1", 7)
    first.value["caller_identifiers"] = [ident(*CLAIM_PHONE)]
    ids = [run.feed(first, CONTACTS_IN)]
    second = interaction([CLAIM_PHONE], interaction_id="CALL-1", minutes=7)
    for position, name in enumerate(order):
        if position == late:
            ids.append(run.feed(second, CONTACTS_IN))
        CLAIM_STEPS[name](run)
    if late == len(order):
        ids.append(run.feed(second, CONTACTS_IN))
    carl = run.customer(*CARL[0])
    assert run.customer(*CLAIM_PHONE) == run.customer("ACCOUNT", "2000002")  # Bob's claim took it
    showing = [key for key in run.harness.local.store.nodes
               if key.startswith("cus_") and "CALL-1" in contact_ids(run.harness, key)]
    assert showing == [carl]
    for event_id in ids:
        placed = [d.customer_id for d in run.harness.decisions(Resolved) if d.triggering_event_id == event_id]
        assert placed[-1] == carl, (event_id, placed)
    run.harness.local.check_consistent()


INTERLEAVINGS = list(itertools.product(itertools.permutations(COMMANDS), range(3), (3, 7), (0, 5)))


@pytest.mark.parametrize(("order", "seed", "partitions", "steps"), INTERLEAVINGS,
                         ids=[f"{'-'.join(o)}-s{s}-p{p}-{n}" for o, s, p, n in INTERLEAVINGS])
def test_the_second_event_in_flight_across_the_last_command_follows_too(order: tuple[str, ...], seed: int,
                                                                        partitions: int, steps: int) -> None:
    """Its saga started ``steps`` deliveries before the last command (perhaps having read the phone's owner before a
    split or a move), on several partitions with duplicated graph messages: the call ends on Carl's screen pop only."""
    run = Run(partitions=partitions, seed=seed, duplicates=0.3)
    for minutes, identifiers in enumerate((ANN, BOB, CARL)):
        run.feed(observed(identifiers, minutes=minutes))
    run.feed(call_completed("CALL-1", 5), CONTACTS_IN)
    for name in order[:-1]:
        COMMANDS[name](run)
    run.feed(interaction([BOB[1]], interaction_id="CALL-1", minutes=5), CONTACTS_IN, settle=False)
    for _ in range(steps):
        run.harness.local.step()
    COMMANDS[order[-1]](run)
    showing = [key for key in run.harness.local.store.nodes
               if key.startswith("cus_") and "CALL-1" in contact_ids(run.harness, key)]
    assert showing == [run.customer(*CARL[0])]
    run.harness.local.check_consistent()
