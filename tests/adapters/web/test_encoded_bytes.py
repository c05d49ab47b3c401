"""The bytes the web hall publishes for a sample batch stay what they were (#9 build 6: speed work on the ingest
path must not change a byte subscribers read; the schemas in ``schemas/`` are their contract).

Every SDK sample of ``samples/`` and three of the web-ingest bench's track calls go as one ``/v1/batch`` through
what the handler runs after reading the body (``_parse``, then ``WebIngress._ingest``: checks, mapping, the one Avro
encoding) at a fixed receive time; the records handed to Kafka (topic, key, value, headers) must equal
``samples/encoded_batch.json``, written by the code before that work. Regenerate it only for a deliberate change
of the events: ``.venv/bin/python -m tests.adapters.web.test_encoded_bytes``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import make_mocked_request

from adapters.base import wire
from adapters.base.dedupe import DedupeStore
from adapters.base.publisher import AdapterPublisher
from adapters.web.ingress import WebIngress, _parse
from adapters.web.mapper import SegmentMapper
from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topic import KafkaRecord
from tests.adapters.web.support import SAMPLES, SOURCE, VERIFYING_PORTAL, web_settings
from tests.bench.web_ingest import track_message

EXPECTED = SAMPLES / "encoded_batch.json"
RECEIVED_AT = datetime(2024, 5, 2, 9, 3, 0, 250_000, tzinfo=UTC)


class RecordingProducer(EventProducer):
    """The real producer's encoding; what it would send is kept instead of sent."""

    sent: list[KafkaRecord]

    async def publish_many(self, items: Sequence[Outgoing], encoded: Sequence[KafkaRecord] | None = None,
                           batched: bool = False) -> list:
        records = list(encoded) if encoded is not None else [await self.encode(item) for item in items]
        self.sent.extend(records)
        return records


def sample_batch() -> bytes:
    """One ``/v1/batch`` body: every sample's messages, then three bench track calls with fixed ids and times."""
    messages: list[dict[str, Any]] = []
    for path in sorted(SAMPLES.glob("*_*.json")):
        if path == EXPECTED:
            continue
        document = json.loads(path.read_text())
        messages.extend(document["batch"] if "batch" in document else [document])
    for n in range(3):
        call = track_message(n)
        call.update(messageId=f"bench-{n}", timestamp="2024-05-02T09:02:59.500Z")
        messages.append(call)
    return json.dumps({"batch": messages}).encode()


async def published(body: bytes) -> list[KafkaRecord]:
    settings = OmnibusSettings()
    web = web_settings(identifier_traits=VERIFYING_PORTAL)  # the samples' account traits, read as the bytes were made
    serializer, _ = build_serde(settings.registry)
    producer = RecordingProducer(settings, serializer)
    producer.sent = []
    publisher = AdapterPublisher("web", producer, DedupeStore(None, 86_400), None,  # type: ignore[arg-type]
                                 retry_after_s=5)
    ingress = WebIngress(web, publisher, SegmentMapper(web, settings.topics, settings.identifiers))
    payload = _parse(body, "application/json")
    response = await ingress._ingest(make_mocked_request("POST", "/v1/batch"), SOURCE,
                                     [(None, m) for m in payload["batch"]], time.perf_counter(), RECEIVED_AT,
                                     single=False, utf8=wire.may_hold_surrogates(body))
    assert response.status == 200 and b'"rejected"' not in response.body, response.body  # type: ignore[operator]
    return producer.sent


def as_json(records: list[KafkaRecord]) -> list[dict[str, Any]]:
    return [{"topic": r.topic, "key": r.key.hex() if r.key is not None else None,
             "value": r.value.hex() if r.value is not None else None,
             "headers": [[name, value.hex()] for name, value in r.headers]} for r in records]


async def test_a_sample_batch_is_published_as_the_same_bytes() -> None:
    records = as_json(await published(sample_batch()))
    expected = json.loads(EXPECTED.read_text())
    assert len(records) == len(expected)
    for index, (record, wanted) in enumerate(zip(records, expected, strict=True)):
        assert record == wanted, f"record {index} ({wanted['topic']}) differs"


if __name__ == "__main__":
    EXPECTED.write_text(json.dumps(as_json(asyncio.run(published(sample_batch()))), indent=1) + "\n")
    print(f"wrote {EXPECTED}")
