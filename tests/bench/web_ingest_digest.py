"""One SHA-256 over everything the web hall produces for a fixed set of Segment calls: the byte-identity check of
speed work on its ingest path (#9 build 6: a cut may change no byte on a topic, no id, no answer).

    .venv/bin/python -m tests.bench.web_ingest_digest [--calls 1500] [--dump FILE]

A seeded generator (``calls``) writes every call type (track, page, screen, identify, group, alias), the bench's
invoice track calls, service requests (with and without the portal's case id), offer responses, identifiers and
placeholders in ``userId``, ``anonymousId`` and ``context.traits``, declared and undeclared references, card-like and
phone-like property values, floats around the digest's ``json.dumps`` boundary, device clocks ahead and behind,
re-sends (``sentAt`` changed), another content under a reused ``messageId`` and messages the mapper refuses. They go in
``/v1/batch`` bodies of up to 40 calls through what the handler runs after reading the body (``_parse``, then
``WebIngress._ingest``: checks, mapping, Avro encoding, dedupe in memory) at fixed receive times, under three
deployments (``SETTINGS``). The digest covers, in order, each body's answer (status and JSON), every record handed to
Kafka (topic, key, value, headers), then what it dead-lettered (the refused message, its reason). ``--dump`` writes
them as JSON lines, to find the first difference between two trees. ``GOLDEN``
(``tests/bench/test_web_ingest_digest.py``) was computed on main before the cuts.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import make_mocked_request

from adapters.base import wire
from adapters.base.dedupe import DedupeStore
from adapters.base.publisher import AdapterPublisher
from adapters.web.config import WebSettings
from adapters.web.ingress import WebIngress, _parse
from adapters.web.mapper import SegmentMapper
from bus.config import OmnibusSettings
from bus.errors import RawRecord
from bus.identifiers import IdentifierSettings
from bus.serde import build_serde
from tests.adapters.web.support import SAMPLES, VERIFYING_PORTAL
from tests.adapters.web.test_encoded_bytes import RecordingProducer
from tests.bench.web_ingest import track_message

SOURCE = "portal-web"
RECEIVED_AT = datetime(2024, 5, 2, 9, 3, 0, 250_000, tzinfo=UTC)
BATCH = 40
CALLS = 1500  # generated calls of the default run, whose digest is ``GOLDEN``
# name -> (web settings, identifier settings): the defaults; a portal that writes verified account and card numbers and
# declares its references; a French deployment (phone region, national ID scheme fr.nir)
SETTINGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "defaults": ({}, {}),
    "verifying": ({"identifier_traits": VERIFYING_PORTAL, "reference_fields": ("invoice_id", "meter_point")}, {}),
    "fr": ({"phone_region": "FR"}, {"default_region": "FR"}),
}
FLOATS = (49.9, 0.1, 1e-5, 1e16, 1e20, -0.0, 123456789.125, 3.0)
TEXTS = ("pdf", "Mes factures", "café ☕", "note: call me", "BILL-2024-04-001234", "4111 1111 1111 1111",
         "+33 6 12 34 56 78", "06 12 34 56 78", "jean.dupont@example.fr", "1 85 05 78 006 084 36",
         "FR7630006000011234567890189", "", "ref 12345678", "x" * 300)
USER_IDS = ("u-1842", "user-7", "12345", "jean.dupont@example.fr", "+33612345678", "null", "anonymous", "C-00042")
TRAITS = ({"email": "jean.dupont@example.fr"}, {"phone": "06 12 34 56 78"}, {"email": "not-an-email"},
          {"accountNumber": "ACC-99812", "plan": "fibre"}, {"cardNumber": "4111111111111111"},
          {"nationalId": "185057800608436", "firstName": "Jean"}, {"imei": "490154203237518"}, {})


def calls(count: int, seed: int = 9) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """``count`` (path call type or None, message) pairs, the same for a seed; see the module doc."""
    rng = random.Random(seed)
    sent: list[dict[str, Any]] = []
    for n in range(count):
        roll = rng.random()
        if sent and roll < 0.04:  # a re-send: the same message, sentAt stamped again
            yield None, {**rng.choice(sent), "sentAt": _stamp(rng, 0)}
            continue
        if sent and roll < 0.06:  # another content under a reused messageId
            yield None, {**rng.choice(sent), "properties": {"format": rng.choice(TEXTS)}}
            continue
        message = _message(rng, n)
        sent.append(message)
        yield (rng.choice(("track", "t", None)) if message["type"] == "track" and rng.random() < 0.1 else None), message


def _stamp(rng: random.Random, spread_s: float) -> str:
    when = RECEIVED_AT + timedelta(seconds=rng.uniform(-spread_s, spread_s / 10))
    text = when.isoformat(timespec=rng.choice(("milliseconds", "microseconds")))
    return text.replace("+00:00", rng.choice(("Z", "+00:00")))


def _message(rng: random.Random, n: int) -> dict[str, Any]:
    kind = rng.choices(("bench", "track", "page", "screen", "identify", "group", "alias", "service", "offer", "bad"),
                       (30, 12, 8, 4, 10, 3, 3, 6, 6, 4))[0]
    if kind == "bench":
        message = track_message(n)
        message.update(messageId=f"bench-{n}", timestamp=_stamp(rng, 60))
        if rng.random() < 0.3:  # a person seen before: the mapper's person-id cache answers
            message["anonymousId"] = f"anon-{n % 7}"
        return message
    message: dict[str, Any] = {"type": "track" if kind in ("service", "offer", "bad") else kind,
                               "messageId": f"m-{n}-{rng.randrange(10**6)}"}
    if rng.random() < 0.8:
        message["userId"] = rng.choice(USER_IDS)
    if rng.random() < 0.6 or "userId" not in message:
        message["anonymousId"] = rng.choice((f"anon-{rng.randrange(12)}", str(rng.randrange(10**9)),
                                             "00000000-0000-0000-0000-000000000000"))
    clock = rng.random()
    if clock < 0.7:
        message["timestamp"] = _stamp(rng, 3600)
    elif clock < 0.8:  # ahead of the receive time: moved back, the device's time kept
        message["timestamp"] = (RECEIVED_AT + timedelta(minutes=rng.randrange(10, 90))).isoformat()
    elif clock < 0.9:  # Segment's skew correction
        message["originalTimestamp"] = _stamp(rng, 600)
        message["sentAt"] = (RECEIVED_AT + timedelta(seconds=rng.uniform(-30, 30))).isoformat()
    properties = {rng.choice(("format", "note", "plan", "amount", "invoice_id", "payment_ref", "meter_point", "pan",
                              "search", "count", "ok", "nested", "tags")): _value(rng) for _ in range(rng.randrange(6))}
    context: dict[str, Any] = {"library": {"name": "analytics.js", "version": "npm:next-1.70.0"}}
    if rng.random() < 0.5:
        context["page"] = {"path": "/mon-compte", "title": rng.choice(TEXTS), "url": "https://www.example.fr/mon-compte?q=1",
                           "referrer": "", "search": rng.choice(("", "?q=4111111111111111"))}
    if rng.random() < 0.35:
        context["traits"] = dict(rng.choice(TRAITS))
    message["context"] = context
    if kind == "track":
        message.update(event=rng.choice(("Invoice Downloaded", "Plan Compared", "Bill Paid")), properties=properties)
    elif kind in ("page", "screen"):
        message.update(name=rng.choice(("Factures", None, "")), properties=properties)
        if rng.random() < 0.3:
            message["category"] = "compte"
    elif kind == "identify":
        message["traits"] = {**rng.choice(TRAITS), **rng.choice(({"name": "Jean Dupont"}, {"birthday": "1985-05-07"},
                                                                 {"birthday": "soon"}, {"plan": "fibre"}, {}))}
    elif kind == "group":
        message.update(groupId=rng.choice(("acme", "ACC-1", "")), traits={"name": "Acme"})
    elif kind == "alias":
        message.update(userId=rng.choice(USER_IDS), previousId=rng.choice(("anon-3", "u-old", "")))
    elif kind == "service":
        properties.update(summary=rng.choice(TEXTS), case_type=rng.choice(("billing-dispute", "")))
        if rng.random() < 0.5:
            properties["request_id"] = f"SR-{rng.randrange(40)}"
        message.update(event="Service Request Submitted", properties=properties)
    elif kind == "offer":
        event = rng.choice(("Offer Viewed", "Offer Accepted", "Offer Declined"))
        properties.update(offer_id=f"off-{rng.randrange(5)}", offer_version=rng.choice(("3", "x", "2147483648")))
        if rng.random() < 0.5:
            properties["presentation_id"] = f"p-{rng.randrange(99)}"
        message.update(event=event, properties=properties)
    else:  # refused: no event name, a properties list, a timestamp that is no time
        message.update(rng.choice(({"properties": properties}, {"event": "X", "properties": [1]},
                                   {"event": "X", "timestamp": "yesterday"})))
    return message


def _value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(TEXTS)
    if roll < 0.7:
        return rng.choice(FLOATS)
    if roll < 0.85:
        return rng.choice((0, 7, -3, 2**40, True, False, None))
    if roll < 0.93:
        return {"a": rng.choice(TEXTS), "b": [1, 2.5]}
    return [rng.choice(TEXTS), rng.choice(FLOATS)]


class _RecordingDeadLetters:
    """What ``DeadLetterWriter.write`` is given (its event's time is the clock's, left out), kept instead of sent."""

    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    async def write(self, record: RawRecord, *, reason: str, error_type: str, correlation_id: str | None = None,
                    dead_letter_id: str | None = None) -> None:
        self.written.append({"dead_letter": error_type, "reason": reason, "value": (record.value or b"").hex(),
                             "headers": [[name, value.hex()] for name, value in record.headers]})


def sample_calls() -> list[tuple[str | None, dict[str, Any]]]:
    """Every SDK sample of ``tests/adapters/web/samples``."""
    found: list[tuple[str | None, dict[str, Any]]] = []
    for path in sorted(SAMPLES.glob("*_*.json")):
        if path.name != "encoded_batch.json":
            document = json.loads(path.read_text())
            found.extend((None, m) for m in (document["batch"] if "batch" in document else [document]))
    return found


async def produced(web: dict[str, Any], identifiers: dict[str, Any], given: list[tuple[str | None, dict[str, Any]]]
                   ) -> Iterator[dict[str, Any]]:
    """The answers and records of ``given`` in bodies of ``BATCH`` calls, as JSON-ready dicts in the order made."""
    settings = OmnibusSettings(identifiers=IdentifierSettings(**identifiers))
    web_settings = WebSettings(write_keys={SOURCE: "wk-digest"}, port=0, **web)
    serializer, _ = build_serde(settings.registry)
    producer = RecordingProducer(settings, serializer)
    dead_letters = _RecordingDeadLetters()
    publisher = AdapterPublisher("web", producer, DedupeStore(None, 86_400), dead_letters,  # type: ignore[arg-type]
                                 retry_after_s=5)
    ingress = WebIngress(web_settings, publisher, SegmentMapper(web_settings, settings.topics, settings.identifiers))
    out: list[dict[str, Any]] = []
    for index, start in enumerate(range(0, len(given), BATCH)):
        producer.sent, dead_letters.written = [], []
        chunk = given[start : start + BATCH]
        body = json.dumps({"batch": [m for _, m in chunk]}).encode()
        payload = _parse(body, "application/json")
        response = await ingress._ingest(make_mocked_request("POST", "/v1/batch"), SOURCE,
                                         [(call, m) for (call, _), m in zip(chunk, payload["batch"], strict=True)],
                                         time.perf_counter(), RECEIVED_AT + timedelta(seconds=index), single=False,
                                         utf8=wire.may_hold_surrogates(body))
        out.append({"status": response.status, "answer": json.loads(response.body)})  # type: ignore[arg-type]
        out.extend({"topic": r.topic, "key": r.key.hex() if r.key is not None else None,
                    "value": r.value.hex() if r.value is not None else None,
                    "headers": [[name, value.hex()] for name, value in r.headers]} for r in producer.sent)
        out.extend(dead_letters.written)
    return iter(out)


def digest(count: int, dump: Path | None = None) -> tuple[str, int]:
    """The SHA-256 (hex) of every answer and record for ``count`` generated calls plus the samples under each of
    ``SETTINGS``, and how many records and answers it covers."""
    given = sample_calls() + list(calls(count))
    sha, lines = hashlib.sha256(), 0
    with dump.open("w") if dump else open("/dev/null", "w") as sink:
        for name, (web, identifiers) in SETTINGS.items():
            for item in asyncio.run(produced(web, identifiers, given)):
                line = json.dumps({"settings": name, **item}, sort_keys=True, ensure_ascii=False)
                sha.update(line.encode() + b"\n")
                sink.write(line + "\n")
                lines += 1
    return sha.hexdigest(), lines


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.web_ingest_digest",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=CALLS, help="Generated calls, besides the SDK samples.")
    parser.add_argument("--dump", type=Path, help="Also write every answer and record as a JSON line to this file.")
    args = parser.parse_args(argv)
    result, lines = digest(args.calls, args.dump)
    print(f"{result}  ({lines} answers and records, {args.calls} generated calls + samples, "
          f"{len(SETTINGS)} deployments)")
    return result


if __name__ == "__main__":
    main()
