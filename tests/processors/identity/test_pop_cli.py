"""``omnibus identity pop``: what a running worker's screen pop serves, from the command line (values masked)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from typer.testing import CliRunner

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS
from omnibus.cli import app as omnibus
from tests.processors.identity.broker import running_workers, wait_until_quiet, watched_topics
from tests.processors.identity.support import interaction, settings
from tests.support.http import get_when_served
from tests.support.ports import refused_url
from tests.support.settings import settings_with_topics


@pytest.mark.parametrize("args", [[], ["PHONE"], ["PHONE", "+33612345678", "--customer", "cus_x"]])
def test_pop_needs_an_identifier_or_a_customer(args: list[str]) -> None:
    result = CliRunner().invoke(omnibus, ["identity", "pop", *args, "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "give TYPE and VALUE, or --customer ID" in result.output, result.output


def test_pop_without_a_worker_exits_69_naming_the_address_not_the_value() -> None:
    with refused_url() as url:  # nothing listens there
        result = CliRunner().invoke(omnibus, ["identity", "pop", "PHONE", "+33612345678", "--url", url,
                                              "--timeout", "5"])
    assert result.exit_code == 69, result.output
    assert result.output.startswith(f"error: no identity worker answered at {url}/customers/lookup")
    assert "612345678" not in result.output


@pytest.mark.parametrize(("held_back", "exit_code"), [("the schema registry has not answered for 18 s", 69), (None, 1)])
def test_pop_of_a_caller_not_found_while_records_wait_says_not_yet_and_exits_69(held_back: str | None,
                                                                               exit_code: int) -> None:
    """A 404 while the worker holds records back (its ``held_back``) may be a caller whose first contact waits: the
    command says "not ... yet" with the reason and exits 69 (ask again), not 1 (nobody has it)."""
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"error": "no customer has this identifier", "held_back": held_back}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = CliRunner().invoke(omnibus, ["identity", "pop", "PHONE", "+33612345678", "--url",
                                              f"http://127.0.0.1:{server.server_address[1]}"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == exit_code, result.output
    if held_back is None:
        assert result.output == "error: no customer has this identifier\n"
    else:
        assert result.output.startswith("error: no customer has this identifier yet: records wait")
        assert held_back in result.output


@pytest.mark.kafka
@pytest.mark.timeout(180)
async def test_pop_prints_what_the_lookup_serves(bootstrap_servers: str, tmp_path: Path) -> None:
    """A bank's CRM developer's finding (F12): no screen pop from the command line. ``identity pop`` answers what
    ``GET /customers/lookup`` answers (by identifier as dialled, or by customer id), 1 for an unknown identifier."""
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    serializer, _ = build_serde(config.registry)
    async with EventProducer(config, serializer) as producer:
        await producer.publish(Outgoing(CONTACT_EVENTS.name(config.topics), "call", interaction(
            [("PHONE", "+33612345678"), ("EMAIL", "ann@x.org")], channel="CALL_CENTER", minutes=1)))
    async with running_workers(config, settings(), tmp_path, 1, web_ports=[0]) as workers:
        port = workers[0].app.conf.web_port  # bound when the worker was built (port 0), served on at its start
        await wait_until_quiet(config, watched_topics(workers[0]), workers[0].app.conf.id)
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            status, served = await get_when_served(http, f"{url}/customers/lookup",
                                                   {"type": "EMAIL", "value": "ann@x.org"})
        assert status == 200, served

        def pop(*args: str) -> tuple[int, str]:
            result = CliRunner().invoke(omnibus, ["identity", "pop", *args, "--url", url])
            return result.exit_code, result.output

        # One at a time: CliRunner swaps the process's stdin/stdout while it runs (not thread-safe); three at once in
        # threads hung the fresh-clone run. Each runs in a thread so the worker (this loop) can answer it.
        by_phone = await asyncio.to_thread(pop, "phone", "+33 6 12 34 56 78")
        by_id = await asyncio.to_thread(pop, "--customer", json.loads(served)["customer_id"])
        unknown = await asyncio.to_thread(pop, "PHONE", "+33699999999")
    assert by_phone[0] == 0 and json.loads(by_phone[1]) == json.loads(served), by_phone[1]
    assert by_id[0] == 0 and json.loads(by_id[1])["identifiers"] == json.loads(served)["identifiers"], by_id[1]
    assert unknown == (1, "error: no customer has this identifier\n")
    assert "612345678" not in by_phone[1] and "ann@x.org" not in by_phone[1]  # masked, as over HTTP


def test_pop_against_a_worker_on_port_0_says_where_the_chosen_port_is_written() -> None:
    """tester28 F13: with ``OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT=0`` exported for the worker (a free port) and the same
    shell running ``identity pop``, it said the variable "is unset"; the port is only in the worker's log."""
    from bus.app import PORT_CHOSEN_EVENT

    result = CliRunner().invoke(omnibus, ["identity", "pop", "PHONE", "+33612345678"],
                                env={"OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT": "0"})
    assert result.exit_code == 2, result.output
    assert "WEB_PORT is 0" in result.output and f"'{PORT_CHOSEN_EVENT}'" in result.output
    assert "--url http://127.0.0.1:N" in result.output and "unset" not in result.output
