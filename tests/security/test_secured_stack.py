"""Issue #13 build 7: the whole stack on a broker that has no plaintext listener, once over SASL_SSL (SCRAM) and
once over TLS only (mutual TLS), every component started with its own ``omnibus`` command and configured only by
the ``OMNIBUS_KAFKA__*`` settings that ``bus/kafka_client.py`` translates.

The broker listens on SSL and SASL_SSL only (``BrokerSecurity(plaintext=False)``; its inter-broker and KRaft
controller traffic is TLS too), so a component that connected in plaintext anywhere could not work: the effects
checked at the end (screen pop from every channel, the offer on the query, handoffs, KPIs and identifier rows on
their topics, and ``omnibus verify`` over the same connection) prove that every client of every component used
the secured connection. The processes' logs are scanned for the traffic's identifiers too. The legacy outbox
relay, which needs PostgreSQL, runs in a test of its own.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from http.client import HTTPException
from pathlib import Path
from typing import Any

import pytest

from adapters.base.http import LISTENING_EVENT as ADAPTER_LISTENING
from bus.app import PORT_CHOSEN_EVENT
from bus.config import OmnibusSettings, load_settings
from bus.stack.kafka import KafkaBroker, wait_for_metadata
from bus.stack.security import BrokerSecurity
from bus.topics import BUSINESS_EVENTS, CUSTOMER_IDENTIFIERS, DEAD_LETTERS, HANDOFF_EVENTS, KPI_AGGREGATES
from demo import traffic
from demo.offers import OFFER_ID, OFFER_YAML
from demo.people import customers
from tests.security.identifier_scan import scan_lines
from tests.support.kafka_io import read_events
from tests.support.processes import Command, omnibus_command
from tests.support.tls import TlsFiles, make_tls_files

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(900)]

USER, PASSWORD = "omnibus-stack", "scram-stack-secret"
HMAC_KEY, WRITE_KEY, TERMINAL, BRANCH, TOKEN, SITE_KEY = (
    "secured-stack-hmac", "portal-key", "CT-0001-01", "0001", "terminal-token", "paris-firehose-key")
POLICY = Path(__file__).resolve().parents[2] / "processors" / "handoffs" / "policy.example.yaml"
PEOPLE = customers(4)
SETTLE_S = 240.0


@pytest.fixture(scope="module")
def secured_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KafkaBroker, TlsFiles]]:
    home = tmp_path_factory.mktemp("secured-stack")
    files = make_tls_files(home / "tls")
    broker = KafkaBroker(home, heap="512m", security=BrokerSecurity(
        cert_file=files.server_cert, key_file=files.server_key, ca_file=files.ca_cert, users={USER: PASSWORD},
        plaintext=False))
    broker.start()
    try:
        yield broker, files
    finally:
        broker.stop()


def connection_env(broker: KafkaBroker, files: TlsFiles, protocol: str, password: str = PASSWORD) -> dict[str, str]:
    """The documented settings, nothing else: what an operator puts in the environment."""
    env = {"OMNIBUS_KAFKA__SECURITY_PROTOCOL": protocol, "OMNIBUS_KAFKA__SSL_CAFILE": str(files.ca_cert)}
    if protocol == "SSL":
        return env | {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": broker.ssl_bootstrap_servers,
                      "OMNIBUS_KAFKA__SSL_CERTFILE": str(files.client_cert),
                      "OMNIBUS_KAFKA__SSL_KEYFILE": str(files.client_key)}
    return env | {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": broker.sasl_ssl_bootstrap_servers,
                  "OMNIBUS_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512", "OMNIBUS_KAFKA__SASL_USERNAME": USER,
                  "OMNIBUS_KAFKA__SASL_PASSWORD": password}


def settings_of(env: dict[str, str]) -> OmnibusSettings:
    kafka = {key.removeprefix("OMNIBUS_KAFKA__").lower(): value for key, value in env.items()
             if key.startswith("OMNIBUS_KAFKA__")}
    return load_settings(kafka=kafka, topics={"prefix": env["OMNIBUS_TOPICS__PREFIX"], "partitions": 2},
                         metrics={"enabled": False})


def run_once(args: list[str], env: dict[str, str], cwd: Path, timeout_s: float = 180) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-c", "from omnibus.cli import app; app()", *args], cwd=cwd,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout_s)


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (OSError, HTTPException, ValueError):  # not up yet, or a reply cut short under load
        return 0, None


def test_the_broker_has_no_plaintext_listener(secured_broker: tuple[KafkaBroker, TlsFiles]) -> None:
    broker, _ = secured_broker
    properties = dict(line.split("=", 1) for line in
                      (broker.home / "config" / "server.properties").read_text().splitlines())
    protocols = {entry.split(":")[1] for entry in properties["listener.security.protocol.map"].split(",")}
    assert protocols == {"SSL", "SASL_SSL"}, properties["listener.security.protocol.map"]
    for address in (broker.ssl_bootstrap_servers, broker.sasl_ssl_bootstrap_servers):
        with pytest.raises(Exception):  # noqa: B017 - aiokafka's own error types: a plaintext client gets nowhere
            wait_for_metadata(address, timeout=5)


def test_a_component_with_a_wrong_password_is_refused(
    secured_broker: tuple[KafkaBroker, TlsFiles], tmp_path: Path
) -> None:
    broker, files = secured_broker
    env = connection_env(broker, files, "SASL_SSL", password="not-the-password") | {
        "OMNIBUS_TOPICS__PREFIX": "wrongpw", "OMNIBUS_KAFKA__REQUEST_TIMEOUT_MS": "10000"}
    result = run_once(["topics", "apply"], env, tmp_path, timeout_s=120)
    assert result.returncode != 0, result.stdout
    assert "not-the-password" not in result.stdout + result.stderr
    assert "Authentication failed" in result.stdout + result.stderr or "SASL" in result.stdout + result.stderr, (
        result.stdout[-2000:] + result.stderr[-2000:])


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SSL"])
async def test_the_whole_stack_runs_secured(
    secured_broker: tuple[KafkaBroker, TlsFiles], protocol: str, tmp_path: Path
) -> None:
    broker, files = secured_broker
    prefix = f"sec{protocol.lower().replace('_', '')}{int(time.time()) % 100000}"
    env = connection_env(broker, files, protocol) | {
        "OMNIBUS_TOPICS__PREFIX": prefix, "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_METRICS__PORT": "0",
        "OMNIBUS_IDENTIFIERS__HMAC_KEY": HMAC_KEY, "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY}
    settings = settings_of(env)
    applied = run_once(["topics", "apply"], env, tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    (tmp_path / "offer.yaml").write_text(OFFER_YAML)
    published = run_once(["offers", "publish", str(tmp_path / "offer.yaml")], env, tmp_path)
    assert published.returncode == 0, published.stdout + published.stderr

    # Every process on port 0: it binds its port itself and logs it (a port drawn free could be bound first by another).
    runs: dict[str, tuple[list[str], dict[str, str], str, str]] = {
        "identity": (["identity", "run", "--web-port", "0"], {}, PORT_CHOSEN_EVENT, "/ready"),
        "handoffs": (["handoffs", "run"], {"OMNIBUS_PROCESSOR_HANDOFFS__WEB_PORT": "0",
                                           "OMNIBUS_PROCESSOR_HANDOFFS__POLICY_FILE": str(POLICY)},
                     PORT_CHOSEN_EVENT, "/ready"),
        "kpis": (["kpis", "run"], {"OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0"}, PORT_CHOSEN_EVENT, "/ready"),
        "offers": (["offers", "run"], {"OMNIBUS_PROCESSOR_OFFERS__WEB_PORT": "0",
                                       "OMNIBUS_PROCESSOR_OFFERS__POLICY": json.dumps({"quiet_hours": None})},
                   PORT_CHOSEN_EVENT, "/ready"),
        "web": (["adapter", "web", "run"], {"OMNIBUS_ADAPTER_WEB__PORT": "0",
                                            "OMNIBUS_ADAPTER_WEB__WRITE_KEYS": json.dumps({"portal": WRITE_KEY})},
                ADAPTER_LISTENING, "/healthz"),
        "branch": (["adapter", "branch", "run"], {
            "OMNIBUS_ADAPTER_BRANCH__PORT": "0",
            "OMNIBUS_ADAPTER_BRANCH__TERMINAL_TOKENS": json.dumps({TERMINAL: TOKEN})},
            ADAPTER_LISTENING, "/healthz"),
        "call_center": (["adapter", "call-center", "run"], {
            "OMNIBUS_ADAPTER_CALL_CENTER__PORT": "0",
            "OMNIBUS_ADAPTER_CALL_CENTER__SITES": json.dumps({"paris": {"access_keys": [SITE_KEY]}})},
            ADAPTER_LISTENING, "/healthz"),
    }
    commands: dict[str, Command] = {}
    with ExitStack() as stack:
        for name, (args, own, _, _) in runs.items():
            (tmp_path / name).mkdir()
            commands[name] = stack.enter_context(omnibus_command(args, env | own, tmp_path / name))
        ports = {name: commands[name].port(event) for name, (_, _, event, _) in runs.items()}
        for name, (_, _, _, path) in runs.items():
            ready = f"http://127.0.0.1:{ports[name]}{path}"
            commands[name].wait_for(lambda url=ready: http("GET", url)[0] == 200, f"{name} to be ready", 240)
        identity, offers, web, branch, call_center = (ports[name] for name in ("identity", "offers", "web", "branch",
                                                                                 "call_center"))
        drive(tmp_path, env, web, branch, call_center)
        customer = PEOPLE[0]
        screen_pop = f"http://127.0.0.1:{identity}/customers/lookup?type=EMAIL&value={customer.email}"
        profile = commands["identity"].wait_for(lambda: every_channel(http("GET", screen_pop)), "a screen pop "
                                                "from every channel", SETTLE_S)
        offer_query = (f"http://127.0.0.1:{offers}/customers/lookup/offers?type=EMAIL&value={customer.email}"
                       "&channel=WEB")
        commands["offers"].wait_for(lambda: OFFER_ID in str(http("GET", offer_query)[1]), "the offer on the web", 120)
        handoff_events = await wait_for_events(settings, HANDOFF_EVENTS)
        kpi_aggregates = await wait_for_events(settings, KPI_AGGREGATES)
        assignments = await wait_for_events(settings, CUSTOMER_IDENTIFIERS)
        dead_letters = [landed.event for landed in await read_events(settings, DEAD_LETTERS)]
    for name, command in commands.items():
        assert command.process.returncode == 0, (name, command.output[-3000:])
    # The processes' own logs (INFO, JSON lines) carry no identifier of the traffic they handled.
    lines = [line for command in commands.values() for line in command.lines]
    assert len(lines) >= len(commands), "the processes logged nothing: is their output captured?"
    leaked = scan_lines(lines, region="FR", known=[person.national_id for person in PEOPLE])
    assert not leaked, [str(finding) for finding in leaked][:20]
    # The run's verifier, over the same secured connection: every input reflected, no stale row, tables recomputed.
    verified = run_once(["verify"], env | runs["handoffs"][1], tmp_path, timeout_s=300)  # the tracker's policy too
    assert verified.returncode == 0, verified.stdout[-4000:] + verified.stderr[-2000:]
    assert profile["customer_id"]
    assert "omnibus.handoff.HandoffCreated" in {e.schema for e in handoff_events}, {e.schema for e in handoff_events}
    assert {e.schema for e in kpi_aggregates} == {"omnibus.kpi.KpiAggregate"}, {e.schema for e in kpi_aggregates}
    assert len({e.value["customer_id"] for e in assignments if e.value}) >= len(PEOPLE)
    assert not dead_letters, [e.value.get("error_message") for e in dead_letters][:5]


@pytest.mark.postgres
async def test_the_legacy_outbox_relay_publishes_over_sasl_ssl(
    secured_broker: tuple[KafkaBroker, TlsFiles], postgres_dsn: str, tmp_path: Path
) -> None:
    """The one adapter command the stack above does not run (it needs PostgreSQL): ``adapter legacy relay``."""
    import psycopg
    from psycopg.types.json import Jsonb

    from tests.adapters.legacy.support import outbox_rows

    broker, files = secured_broker
    env = connection_env(broker, files, "SASL_SSL") | {
        "OMNIBUS_TOPICS__PREFIX": f"secrelay{int(time.time()) % 100000}", "OMNIBUS_TOPICS__PARTITIONS": "2",
        "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_ADAPTER_LEGACY__DATABASE_URL": postgres_dsn}
    for args in (["topics", "apply"], ["adapter", "legacy", "install-outbox"]):
        done = run_once(args, env, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    rows = outbox_rows()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        for row in rows:
            conn.execute("INSERT INTO omnibus_outbox (id, aggregate_type, aggregate_id, event_type, payload) "
                         "VALUES (%s, %s, %s, %s, %s)", [row["id"], row["aggregate_type"], row["aggregate_id"],
                                                         row["event_type"], Jsonb(row["payload"])])
    settings = settings_of(env)
    with omnibus_command(["adapter", "legacy", "relay"], env, tmp_path) as relay:
        events = await wait_for_events(settings, BUSINESS_EVENTS, count=len(rows))
    assert relay.process.returncode == 0, relay.output[-3000:]
    assert len({e.value["envelope"]["event_id"] for e in events}) == len(rows)


def drive(workdir: Path, env: dict[str, str], web: int, branch: int, call_center: int) -> None:
    """The demo's traffic through every adapter: web journeys, Connect CTRs, counter visits, a billing export."""
    start = datetime.now(UTC) - timedelta(hours=2)
    basic = {"Authorization": "Basic " + __import__("base64").b64encode(f"{WRITE_KEY}:".encode()).decode()}
    for customer in PEOPLE:
        moment = start + timedelta(minutes=customer.index)
        sent = [
            http("POST", f"http://127.0.0.1:{web}/v1/batch", {"batch": traffic.web_journey(customer, moment)}, basic),
            http("POST", f"http://127.0.0.1:{call_center}/v1/connect/ctr",
                 traffic.connect_ctr(customer, moment + timedelta(minutes=10), answered=True),
                 {"X-Amz-Firehose-Access-Key": SITE_KEY}),
            http("POST", f"http://127.0.0.1:{branch}/v1/counter/events",
                 traffic.counter_visit(customer, moment + timedelta(minutes=30), TERMINAL, BRANCH),
                 {"Authorization": f"Bearer {TOKEN}"}),
        ]
        assert all(status == 200 for status, _ in sent), sent
    exports = workdir / "exports"
    exports.mkdir()
    (exports / "subscriptions.yaml").write_text(traffic.SUBSCRIPTIONS_LAYOUT)
    (exports / "subscriptions.csv").write_text(traffic.subscriptions_csv(PEOPLE))
    # its own import state: the file is the same in both protocols' runs, and the state's default home is shared
    # (XDG_STATE_HOME), so the second run's import was a duplicate and its customers had no products
    imported = run_once(["adapter", "legacy", "import-batch", str(exports / "subscriptions.csv"),
                         "--layout", str(exports / "subscriptions.yaml"), "--state-dir", str(workdir / "legacy-state")],
                        env, exports)
    assert imported.returncode == 0, imported.stdout + imported.stderr


def every_channel(answer: tuple[int, Any]) -> dict[str, Any] | None:
    status, profile = answer
    if status != 200 or not isinstance(profile, dict):
        return None
    from demo.report import contacts, products

    channels = {contact.get("channel") for contact in contacts(profile)}
    return profile if {"WEB", "CALL_CENTER", "BRANCH"} <= channels and products(profile) else None


async def wait_for_events(settings: OmnibusSettings, spec: Any, timeout_s: float = 120.0, count: int = 1) -> list:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(found := await read_events(settings, spec)) >= count:
            return [landed.event for landed in found]
        await asyncio.sleep(2)
    raise AssertionError(f"nothing on {spec.name(settings.topics)} within {timeout_s:.0f} s")
