"""The web-ingest floors' in-process part on a few bodies (no broker, no timing asserted) and their sum."""

from __future__ import annotations

import json
import math

from adapters.web.config import WebSettings
from bus.config import OmnibusSettings
from tests.bench.web_ingest import WRITE_KEY, batches
from tests.bench.web_ingest_floors import Floors, in_process, section


def test_in_process_floors_measure_parse_avro_and_dedupe_of_the_bodies() -> None:
    work = batches(20, 10)
    bodies = [json.dumps({"batch": batch, "writeKey": WRITE_KEY}).encode() for batch in work]
    parse, avro, insert, lookup = in_process(OmnibusSettings(), bodies, [m for batch in work for m in batch], 10,
                                             WebSettings(write_keys={"bench": WRITE_KEY}))
    assert "msgspec" in parse and len(avro) == 2
    assert all(math.isfinite(figure) and figure >= 0 for figure in [*parse.values(), *avro.values(), insert, lookup])


def test_the_sum_takes_the_cheaper_parser_and_encoder_and_leaves_the_lookup_out() -> None:
    floors = Floors(http=10.0, parse={"msgspec": 8.0, "orjson": 5.0}, avro={"a": 19.0, "b": 21.0},
                    dedupe_insert=9.0, dedupe_lookup=4.0)
    assert floors.library_sum(producer=15.0) == 10 + 5 + 19 + 9 + 15
    text = section(96.0, floors, 15.0, 100)
    assert "**58.0**" in text and "38 µs per event above" in text and "above the sum of the library floors" in text
    assert "**below**" in section(96.0, Floors(30.0, {"msgspec": 8.0}, {"a": 19.0}, 9.0, 4.0), 15.0, 100)
