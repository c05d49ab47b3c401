from tests.bench.identity_corrupted_order import differing, draws
from tests.processors.identity.graph.test_local import CORRUPTED_DRAWS


def test_the_search_draws_as_the_property_does_and_finds_no_known_draw() -> None:
    examples = draws(48, 3)
    assert examples == draws(48, 3) and all(0 <= seed <= 10_000 and 2 <= people <= 9 and 1 <= count <= 40
                                            for seed, people, count in examples)
    assert differing(CORRUPTED_DRAWS[:2]) == []
