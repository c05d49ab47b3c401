"""The hot-path bench's repeat-only input (#9 point 2): every measured event repeats a warm combination, and intake
sends each the fast way."""

from __future__ import annotations

from tests.bench import identity_hotpath
from tests.bench.identity_workload import contact_mix, repeat_contacts


def _combination(item: tuple[str, str, object]) -> tuple[tuple[str, str], ...]:
    event = item[2]
    return tuple((i["type"], i["value"]) for i in event.value["customer_identifiers"])  # type: ignore[attr-defined]


def test_repeat_contacts_repeat_only_combinations_the_warm_events_carried() -> None:
    warm = contact_mix(200)
    more = repeat_contacts(warm, 100)
    assert len(more) == 100 and {_combination(item) for item in more} <= {_combination(item) for item in warm}
    ids = [item[2].value["envelope"]["event_id"] for item in [*warm, *more]]  # type: ignore[attr-defined]
    assert len(set(ids)) == len(ids)  # each a contact of its own


def test_a_repeat_only_run_sends_every_measured_event_the_fast_way() -> None:
    assert identity_hotpath.run(60, 300, 50, mix="repeat")["fast_share"] == 1.0
    assert identity_hotpath.run(60, 300, 50)["fast_share"] < 1.0  # the contact mix: new and linking events too


def test_input_only_builds_the_input_and_runs_nothing() -> None:
    assert identity_hotpath._input_only(50, 30, "repeat") == 80
