"""``omnibus identity run`` as operators start it: a process, its screen pop, SIGTERM."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bus.app import PORT_CHOSEN_EVENT
from bus.metrics import LISTENING_EVENT
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import IDENTIFIERS_OBSERVED
from tests.processors.identity.support import HMAC_KEY, observed
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]


def lookup(port: int, email: str) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{port}/customers/lookup?type=EMAIL&value={email}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


async def test_the_worker_serves_the_screen_pop_and_stops_on_sigterm(bootstrap_servers: str, tmp_path: Path) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_METRICS__PORT": "0",
           "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY}
    with omnibus_command(["identity", "run", "--web-port", "0"], env, tmp_path) as worker:  # the ports it bound, logged
        web_port, metrics_port = worker.port(PORT_CHOSEN_EVENT), worker.port(LISTENING_EVENT)
        worker.wait_for(lambda: lookup(web_port, "ann@x.org")[0] == 404, "the screen pop to answer")
        serializer, _ = build_serde(config.registry)
        async with EventProducer(config, serializer) as producer:
            await producer.publish(Outgoing(IDENTIFIERS_OBSERVED.name(config.topics), "k",
                                            observed([("EMAIL", "ann@x.org"), ("ACCOUNT", "A-1")], minutes=0)))
        _, profile = worker.wait_for(lambda: (found := lookup(web_port, "ann@x.org"))[0] == 200 and found,
                                     "the customer to appear")
        assert {i["type"] for i in profile["identifiers"]} == {"EMAIL", "ACCOUNT"}
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
            assert "omnibus_identity" in response.read().decode()
    assert_clean_exit(worker, "ann@x.org")
    assert not list(tmp_path.iterdir()), "the worker wrote into its working directory"
