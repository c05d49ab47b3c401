from collections import Counter

from tests.bench.identity_profile import IDLE, SOCKET, STARTUP, breakdown, collections, part_of, samples_by_part, written

LOOP = "_run_module_as_main (<frozen runpy>:198);<module> (tests/bench/identity_worker.py:161);Handle._run (x:80)"


def test_a_sample_goes_to_the_first_part_whose_pattern_is_in_its_stack() -> None:
    profile = f"{LOOP};IdentityGraph.handle (e.py:1);on_apply (c.py:2);ProfileBook.apply (b.py:3) 7"
    assert part_of(profile.rpartition(" ")[0].split(";")).startswith("profile sections applied")
    handler = f"{LOOP};IdentityGraph.handle (e.py:1);on_visit (i.py:9)".split(";")
    assert part_of(handler).startswith("graph protocol handlers")
    assert part_of(f"{LOOP};BaseEventLoop._run_once (a.py:1);EpollSelector.select (selectors.py:468)".split(";")) == IDLE
    assert part_of(f"{LOOP};_find_and_load (<frozen importlib._bootstrap>:1)".split(";")) == STARTUP
    assert part_of(f"{LOOP};Task.__step (t.py:1)".split(";")).startswith("faust, mode and asyncio")


def test_parts_are_scaled_to_the_cpu_per_event_without_idle_and_start_up_samples() -> None:
    raw = "\n".join([
        f"{LOOP};IdentityGraph.handle (e.py:1) 30",
        f"{LOOP};RecordDecoder.decode (c.py:1);read_body (a.py:2) 10",
        f"{LOOP};EpollSelector.select (selectors.py:468) 500",
        f"{LOOP};_find_and_load (<frozen importlib._bootstrap>:1) 90",
        f"{LOOP};AIOKafkaConnection.send (c.py:1);_SelectorSocketTransport.write (asyncio/selector_events.py:1057) 40",
        "not a sample line",
    ])
    counts = samples_by_part(raw)
    assert counts[IDLE] == 500 and counts[STARTUP] == 90 and counts[SOCKET] == 40
    parts = {part.name: part for part in breakdown(counts, us_per_event=200.0)}
    assert IDLE not in parts and STARTUP not in parts and SOCKET not in parts
    assert parts["graph protocol handlers (the rest of IdentityGraph.handle)"].us_per_event == 150.0
    assert parts["Avro decode (inputs, followed rows)"].us_per_event == 50.0
    assert sum(part.us_per_event for part in parts.values()) == 200.0
    assert breakdown(Counter(), 200.0)[0].us_per_event == 0.0


def test_the_worker_counters_are_read_from_its_log() -> None:
    log = ("noise\nCOUNTER written p.customer.contacts.v1 records 20305 bytes 3291716\n"
           "COUNTER gc generation 2 collections 13 cpu_s 1.194\nCOUNTER gc generation 0 collections 9 cpu_s 0.2\n")
    assert written(log) == {"p.customer.contacts.v1": (20305, 3291716)}
    assert collections(log) == {2: (13, 1.194), 0: (9, 0.2)}
