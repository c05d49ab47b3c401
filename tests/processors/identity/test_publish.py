"""What an identity worker writes to its log while it publishes (``publish.py``): no identifier value, at any level.

Tester M5: a DEBUG line showed part of a user id that is an e-mail. A representative flow (households on a shared
landline, logins by e-mail and by name, a device, calls) runs through the graph; its records go out as the publisher
sends them, each logged by aiokafka's producer line at DEBUG ("Sending (key=... value=...)", the records' keys
``TYPE:value``), and the publisher's own lines follow. No value, nor any 4-character part of an e-mail's local part
or of a number's digits, is in the log.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import pytest

from bus.config import TopicSettings
from bus.issued_ids import ISSUED
from bus.logging import configure_logging
from bus.serde import SerdeContext
from processors.identity.announcements import Announcer
from processors.identity.graph.outputs import Output, Send
from processors.identity.publish import Publisher
from processors.identity.wire import bundle
from tests.bus.test_redact import fragments, restore_logging  # noqa: F401 - the fixture puts logging back
from tests.processors.identity.graph.test_evidence import ANN, BOB
from tests.processors.identity.graph.test_refusals import observed
from tests.processors.identity.support import DESERIALIZER, SERIALIZER, Harness, interaction, matcher_settings

VALUES = {"USER_ID": "qzxwv.kjhgf@example.org", "EMAIL": "jqkzv.lee@example.org", "PHONE": "+33697583946",
          "DEVICE": "tab-kzqxw-77", "ACCOUNT": "80417395"}
BOB_USER = ("USER_ID", "vkzqjw_lee")


def flow() -> tuple[Harness, list[Output]]:
    h = Harness(matcher_settings())
    sends: list[Output] = []
    submit = h.local.submit

    def keep(outputs: list[Output]) -> None:
        sends.extend(output for output in outputs if isinstance(output, Send))
        submit(outputs)

    h.local.submit = keep  # type: ignore[method-assign]
    phone, email, device = ("PHONE", VALUES["PHONE"]), ("EMAIL", VALUES["EMAIL"]), ("DEVICE", VALUES["DEVICE"])
    for event, topic in [
        (observed([("USER_ID", VALUES["USER_ID"]), ("ACCOUNT", VALUES["ACCOUNT"]), phone, email], ANN, 0), "o"),
        (observed([BOB_USER, phone, device], BOB, 1), "o"),
        (observed([BOB_USER, phone], BOB, 10, "CALL_CENTER"), "o"),
        (interaction([phone], minutes=11), "contact.events.v1"),
        (interaction([("USER_ID", VALUES["USER_ID"]), email], channel="WEB", minutes=12), "contact.events.v1"),
    ]:
        h.feed(event, topic="identity.observed.v1" if topic == "o" else topic)
    return h, [*sends, *h.local.decisions]


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_workers_log_holds_no_identifier_value_at_any_level(level: str, capsys: pytest.CaptureFixture[str]) -> None:
    h, outputs = flow()
    configure_logging(level)
    producer = logging.getLogger("aiokafka.producer.producer")
    announcer = Announcer(TopicSettings(), lambda ref: DESERIALIZER(ref.record, SerdeContext(topic=ref.topic)))
    sent = 0
    for key, data in bundle([o for o in outputs if isinstance(o, Send)], 12):
        producer.debug("Sending (key=%s value=%s) to %s", key.encode(), data, "TopicPartition(partition=0)")
        sent += 1
    for output in outputs:
        for record in announcer.outgoing(output) if not isinstance(output, Send) else []:
            event: Any = getattr(record, "event", None)
            value = None if event is None else event.value["bytes"] if event.schema.startswith("internal:") \
                else SERIALIZER(event, SerdeContext(topic=record.topic))  # a record re-published as is, or encoded
            producer.debug("Sending (key=%s value=%s) to %s", record.key.encode(), value, "TopicPartition(partition=0)")
            sent += 1
    Publisher(None, announcer, "identity.graph.v1", lambda: 12, None, None).after(  # type: ignore[arg-type]
        [o for o in outputs if not isinstance(o, Send)], Counter())
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) >= (sent if level == "DEBUG" else 0) and sent > 20
    secrets = [*VALUES.values(), BOB_USER[1]]
    for line in lines:
        text = " ".join(str(value) for key, value in json.loads(line).items() if key != "timestamp")
        shown = ISSUED.sub("[issued]", text)  # tokens and customer ids: hex, a 4-digit run in one is chance
        windows = {shown[i:i + 4] for i in range(len(shown) - 3)}
        for secret in secrets:
            assert secret not in text and not fragments(secret) & windows, (secret, text[:300])
