"""The registry client's own part: errors say whether retrying can help (the protocol is confluent-kafka's)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest

from bus.config import RegistrySettings
from bus.errors import RegistryLookupDeferred, SchemaRegistryError
from bus.registry_outage import lookups_off_loop
from bus.serde.registry import SchemaRegistryClient
from tests.support.ports import refused_url
from tests.support.stall_proxy import StallProxy


class _Answers(BaseHTTPRequestHandler):
    status = 404

    def _answer(self) -> None:
        body = json.dumps({"error_code": self.status * 100 + 3, "message": "no such thing"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[404, 503])
def answering(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    handler = type("Handler", (_Answers,), {"status": request.param})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", request.param
    server.shutdown()
    server.server_close()


def test_an_answer_is_retriable_only_for_5xx(answering: tuple[str, int]) -> None:
    url, status = answering
    client = SchemaRegistryClient(RegistrySettings(url=url, timeout_s=5))
    with pytest.raises(SchemaRegistryError) as caught:
        client.schema_by_id(7)
    assert caught.value.status == status
    assert caught.value.retriable is (status >= 500)


def test_an_unreachable_registry_is_retriable_and_fails_fast() -> None:
    with refused_url() as url, pytest.raises(SchemaRegistryError, match="unreachable") as caught:
        client = SchemaRegistryClient(RegistrySettings(url=url, timeout_s=5))
        started = time.monotonic()
        client.register("t-omnibus.test.Thing", {"type": "record", "name": "Thing", "fields": []})
    assert caught.value.retriable
    assert time.monotonic() - started < 3  # no retries with backoff inside: the caller decides


def test_no_url_is_refused() -> None:
    with pytest.raises(SchemaRegistryError, match="OMNIBUS_REGISTRY__URL"):
        SchemaRegistryClient(RegistrySettings())


def test_a_registry_that_accepts_and_never_answers_is_retriable_after_the_timeout() -> None:
    proxy = StallProxy(("127.0.0.1", 9))
    proxy.stall()  # accepts and reads, never answers: a dead load balancer, a stuck JVM
    try:
        client = SchemaRegistryClient(RegistrySettings(url=f"http://127.0.0.1:{proxy.port}", timeout_s=1))
        started = time.monotonic()
        with pytest.raises(SchemaRegistryError, match="unreachable") as caught:
            client.schema_by_id(7)
        waited = time.monotonic() - started
    finally:
        proxy.close()
    assert caught.value.retriable and caught.value.lookup is not None
    assert 0.9 < waited < 5  # the settings' timeout, not the library's default nor forever


def test_within_lookups_off_loop_no_round_trip_is_made_but_deferred_to_its_lookup() -> None:
    with refused_url() as url:
        client = SchemaRegistryClient(RegistrySettings(url=url, timeout_s=5))
        with lookups_off_loop(), pytest.raises(RegistryLookupDeferred) as deferred:
            client.schema_by_id(7)
        assert deferred.value.retriable and deferred.value.lookup is not None
        with pytest.raises(SchemaRegistryError, match="unreachable"):  # the call itself, made where it is run
            deferred.value.lookup()


class _Trickles(BaseHTTPRequestHandler):
    """Answers 200 with a body it sends one byte every ``PAUSE_S``: each byte comes well within a read timeout, the
    whole answer takes ``len(BODY) * PAUSE_S`` seconds (a registry behind a congested link, a JVM in GC pauses)."""

    PAUSE_S = 0.25
    BODY = json.dumps({"schema": '{"type": "string"}', "schemaType": "AVRO"}).encode()
    stopped = threading.Event()  # set at the test's end: the answer stops there

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        for byte in self.BODY:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if self.stopped.wait(self.PAUSE_S):
                return

    def log_message(self, *args: object) -> None:
        pass


def test_a_registry_that_answers_a_byte_at_a_time_fails_after_the_timeout_all_told() -> None:
    # httpx's timeout bounds each read, not the request: without a bound of its own the call took the whole trickle
    # (len(BODY) * PAUSE_S, about 12 s), whatever OMNIBUS_REGISTRY__TIMEOUT_S said.
    _Trickles.stopped.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickles)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = SchemaRegistryClient(RegistrySettings(url=f"http://127.0.0.1:{server.server_port}", timeout_s=1))
        started = time.monotonic()
        with pytest.raises(SchemaRegistryError, match="unreachable.*within 1.0 s") as caught:
            client.schema_by_id(7)
        waited = time.monotonic() - started
    finally:
        _Trickles.stopped.set()
        server.shutdown()
        server.server_close()
    assert caught.value.retriable and caught.value.lookup is not None
    assert waited < 4, waited  # the whole answer would take len(BODY) * PAUSE_S
    assert len(_Trickles.BODY) * _Trickles.PAUSE_S > 3 * 4
