"""The identity report's floor lines: the verdicts follow the figures of the same run (no broker)."""

from __future__ import annotations

from tests.bench.identity import Measured
from tests.bench.identity_report import floor_scaling, floors


def run(kind: str, events: int, seconds: float, cpu_s: float, workers: int = 1) -> Measured:
    return Measured(kind, workers, events, seconds, cpu_s, idle_cpu=0.01)


def test_the_target_is_above_a_floor_that_runs_faster_than_a_fifth_of_the_bare_loop() -> None:
    runs = {"aiokafka": run("aiokafka", 10_001, 1.0, 0.1), "faust-writes": run("faust-writes", 10_001, 2.0, 0.2),
            "identity": run("identity", 10_001, 20.0, 4.0)}
    text = "\n".join(floors(runs))
    assert "20 µs CPU per event, 0.500× the bare aiokafka loop's events/s" in text
    assert "the target lies **above** the floor" in text and "costs 20.0× the floor's CPU per event" in text


def test_a_floor_slower_than_the_target_blocks_it() -> None:
    runs = {"aiokafka": run("aiokafka", 10_001, 1.0, 0.1), "faust-writes": run("faust-writes", 10_001, 10.0, 0.2),
            "identity": run("identity", 10_001, 20.0, 4.0)}
    assert "the target lies **below** the floor" in "\n".join(floors(runs))
    assert floors({"aiokafka": runs["aiokafka"], "identity": runs["identity"]}) == []


def test_the_floors_scaling_is_two_workers_events_per_cpu_second_over_one() -> None:
    text = "\n".join(floor_scaling([run("faust-writes", 10_001, 2.0, 0.4), run("faust-writes", 10_001, 2.0, 0.5, 2)]))
    assert "**0.80×** one worker's" in text and "target is **below** this floor's own ratio" in text
    assert floor_scaling([run("faust-writes", 10_001, 2.0, 0.4)]) == []


def test_the_floors_latency_line_gives_its_percentiles_against_the_target() -> None:
    from tests.bench.identity_report import floor_latency

    text = "\n".join(floor_latency([float(ms) for ms in range(1, 101)], 243.0))
    assert "paced at the same 243 events/s" in text and "p50 51 ms, p99 100 ms, max 100 ms" in text
    assert "target is above this floor's p99" in text
    assert floor_latency([], 243.0) == []


def test_the_floors_scaling_without_standby_replicas_says_what_they_cost() -> None:
    text = "\n".join(floor_scaling([run("faust-writes", 10_001, 2.0, 0.2), run("faust-writes", 10_001, 2.0, 0.3, 2),
                                    run("faust-writes", 10_001, 2.0, 0.2, 2)]))
    assert "**0.67×** one worker's" in text and "**1.00×** one worker's" in text
    assert "the standby replicas cost the floor 10.0 µs per event" in text
