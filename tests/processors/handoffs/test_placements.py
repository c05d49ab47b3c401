"""Identity's placements of the handoffs as the tracker's directory keeps them (``placements.Placements``): what says
a handoff's customer changed. Their retention: ``test_directory.py``."""

from processors.handoffs.placements import Placement, Placements


def test_a_placement_changes_the_customer_only_when_it_supersedes_the_one_held_and_names_another() -> None:
    placements = Placements()
    assert placements.place("h1", Placement("cus_a", "e1", moved=False, at_ms=10), "CALL-1")
    assert not placements.place("h1", Placement("cus_b", "e0", moved=False, at_ms=5))  # older: changes nothing
    assert not placements.place("h1", Placement("cus_a", "e2", moved=False, at_ms=20))  # later, the same customer
    assert placements.place("h1", Placement("cus_b", "e3", moved=True, at_ms=15))  # a move wins over the original
    assert placements.of("h1") == Placement("cus_b", "e3", moved=True, at_ms=15)


def test_a_moved_contact_takes_the_handoffs_opened_during_it_and_says_which_changed_customer() -> None:
    placements = Placements()
    placements.place("h1", Placement("cus_a", "e1", moved=False, at_ms=10), "CALL-1")
    placements.place("h2", Placement("cus_b", "e2", moved=False, at_ms=11), "CALL-1")
    placements.place("h3", Placement("cus_a", "e3", moved=False, at_ms=12), "CALL-2")
    assert placements.move_contact("CALL-1", Placement("cus_b", "m1", moved=True, at_ms=30)) == ["h1"]
    assert placements.of("h1") == placements.of("h2") == Placement("cus_b", "m1", moved=True, at_ms=30)
    assert placements.of("h3") == Placement("cus_a", "e3", moved=False, at_ms=12)
    assert placements.move_contact("CALL-9", Placement("cus_c", "m2", moved=True, at_ms=31)) == []
    assert placements.of("h-unknown") is None
