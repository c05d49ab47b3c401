from datetime import timedelta

from bus.config import TopicSettings
from bus.serde import Event
from processors.offers.outputs import Emitter, Instruction
from processors.offers.profile_section import EligibleOffersSection
from processors.profile.book import ProfileBook
from tests.processors.offers.factories import T0, offer

SECTION = EligibleOffersSection()


def instruction(action: str, offer_id: str = "fibre", at=T0, priority: int = 0) -> Event:
    emitter = Emitter(TopicSettings(), "test", lambda: at)
    item = Instruction(action, "CALL_CENTER", "cus_1", ("PHONE:+8613900000001",), offer(offer_id, priority=priority),
                       cause_id=f"{action}-{at.isoformat()}")
    return emitter.instruction(item).event


def test_show_then_withdraw() -> None:
    state = SECTION.apply(None, instruction("SHOW"))
    assert [o["offer_id"] for o in SECTION.render(state)] == ["fibre"]
    assert SECTION.identifiers(instruction("SHOW")) == [{"type": "PHONE", "value": "+8613900000001"}]
    state = SECTION.apply(state, instruction("WITHDRAW", at=T0 + timedelta(seconds=1)))
    assert SECTION.render(state) == []


def test_a_late_older_instruction_changes_nothing_and_replays_are_idempotent() -> None:
    withdrawn = SECTION.apply(SECTION.apply(None, instruction("SHOW")), instruction("WITHDRAW", at=T0 + timedelta(seconds=1)))
    assert SECTION.apply(withdrawn, instruction("SHOW")) == withdrawn
    shown = SECTION.apply(None, instruction("SHOW"))
    assert SECTION.apply(shown, instruction("SHOW")) == shown


def test_ranked_by_priority() -> None:
    state = SECTION.apply(SECTION.apply(None, instruction("SHOW", "low", priority=1)), instruction("SHOW", "high", priority=9))
    assert [o["offer_id"] for o in SECTION.render(state)] == ["high", "low"]


def test_merge_keeps_the_later_instruction_per_offer() -> None:
    shown = SECTION.apply(None, instruction("SHOW"))
    withdrawn = SECTION.apply(shown, instruction("WITHDRAW", at=T0 + timedelta(seconds=1)))
    assert SECTION.render(SECTION.merge(shown, withdrawn)) == []
    assert SECTION.render(SECTION.merge(withdrawn, SECTION.apply(None, instruction("SHOW", "tv")))) [0]["offer_id"] == "tv"


def test_at_one_instant_the_survivors_instruction_wins_a_merge() -> None:
    """The offer processor relies on it: a merged SHOW its survivor's WITHDRAW ties gets no WITHDRAW again."""
    shown = SECTION.apply(None, instruction("SHOW"))
    withdrawn = SECTION.apply(None, instruction("WITHDRAW"))
    assert SECTION.render(SECTION.merge(withdrawn, shown)) == []
    assert [o["offer_id"] for o in SECTION.render(SECTION.merge(shown, withdrawn))] == ["fibre"]


def test_registered_in_the_screen_pop() -> None:
    assert "eligible_offers" in [s.name for s in ProfileBook.from_registry().sections]


def test_a_merged_customers_withdrawal_changes_nothing_the_survivors_instructions_decide() -> None:
    """A merge's WITHDRAW ``MERGED`` (keyed by the merged id, in no order with the survivor's SHOW of the offer)."""
    emitter = Emitter(TopicSettings(), "test", lambda: T0 + timedelta(seconds=1))
    merged = emitter.instruction(Instruction("WITHDRAW", "CALL_CENTER", "cus_2", ("EMAIL:b@x.org",), offer("fibre"),
                                             reason="MERGED", cause_id="merge")).event
    shown = SECTION.apply(None, instruction("SHOW"))
    assert SECTION.apply(shown, merged) == shown
