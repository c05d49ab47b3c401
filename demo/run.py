"""The demo: start a local stack, run every component, drive scripted journeys, show the result."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.progress import Progress

from adapters.base.runtime import adapter_component
from adapters.legacy.mapper import COMPONENT as LEGACY
from bus.cli.progress import waiting
from bus.config import OmnibusSettings, load_settings
from bus.errors import LocalStackError
from bus.logging import logged_as
from bus.producer import EventProducer
from bus.serde import build_serde
from bus.stack import LocalStack
from bus.topic_admin import apply_topics
from demo import backoffice, report, settle, traffic
from demo.offers import InstructionWatch, offer_journey, publish_demo_offer
from demo.people import DemoCustomer, customers
from demo.services import (
    BRANCH_ID,
    SITE_KEY,
    TERMINAL_ID,
    TERMINAL_TOKEN,
    WRITE_KEY,
    Endpoints,
    running_middleware,
    scratch_dir,
)
from processors.kpis.agent import changelogs as kpi_changelogs

TOPIC_COUNT_EVERY_S = 5.0  # how often the wait for the screen pop counts the records on the topics (progress)
MALFORMED_NATIONAL_ID = "11010519491231002X"  # GB 11643's worked example
MALFORMED_CARD = "4111 1111 1111 1111"  # the card networks' test number
# Called with the demo's settings and addresses after the summary, while everything still runs (tests read the
# topics and the endpoints here).
Inspect = Callable[[OmnibusSettings, Endpoints], Awaitable[None]]


DEMO_PHONE_REGION = "FR"  # the demo's people are French: a number posted as 06 12 34 56 78 is read as +33 6...
# Region FR alone would check national IDs as French NIRs only (bus.identifiers.settings); the demo's people carry
# resident ID cards (demo.people.resident_id), and a new user's French NIR is accepted too. The environment wins.
DEMO_NATIONAL_ID_SCHEMES = ("fr.nir", "cn.ric")
# A telecom's billing writes its customer numbers C-770002, which a caller types 770002 on the keypad: without the
# format they were two customers, and the caller's phone left his billing record. The environment wins.
DEMO_CUSTOMER_NUMBER_FORMAT = {"prefix": "C-"}
# A throw-away key, so the demo's refused identify is kept sealed and re-drivable (with --keep-running), and its
# adapters do not each warn at start that a refusal cannot be re-driven. The environment wins.
DEMO_SEAL_KEY = "demo-only-dead-letter-seal-key-not-for-production"


def demo_settings(state: dict[str, Any], metrics_port: int) -> OmnibusSettings:
    """The demo stack's settings; a phone region set in the environment wins over the demo's (a new user's
    ``0612345678`` was dropped as an identifier while the web hall answered success)."""
    registry = state.get("registry") or {}
    region = os.environ.get("OMNIBUS_IDENTIFIERS__DEFAULT_REGION") or DEMO_PHONE_REGION
    identifiers: dict[str, Any] = {"default_region": region}
    if "OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES" not in os.environ:
        identifiers["national_id_schemes"] = DEMO_NATIONAL_ID_SCHEMES
    if "OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT" not in os.environ:
        identifiers["customer_number_format"] = DEMO_CUSTOMER_NUMBER_FORMAT
    sealing = {} if "OMNIBUS_DEAD_LETTERS__SEAL_KEY" in os.environ else {"dead_letters": {"seal_key": DEMO_SEAL_KEY}}
    return load_settings(
        **sealing,
        kafka={"bootstrap_servers": state["kafka"]["bootstrap_servers"]},
        registry={"url": registry.get("url")},
        topics={"partitions": 3},
        metrics={"port": metrics_port},
        log={"level": "WARNING"},
        identifiers=identifiers,
    )


async def run_demo(count: int, *, keep_running: bool, console: Console, inspect: Inspect | None = None) -> bool:
    with scratch_dir() as scratch:
        workdir = Path(scratch)
        stack = LocalStack(workdir / "stack", registry=True)
        starting = asyncio.ensure_future(asyncio.to_thread(stack.up))
        try:
            with waiting(console, "Starting Kafka (KRaft) and the schema registry from Maven Central..."):
                try:
                    state = await asyncio.shield(starting)
                except LocalStackError as exc:
                    raise _with_logs_kept(exc, stack.state_dir) from exc
            return await _with_stack(state, workdir, count, keep_running, console, inspect)
        finally:
            # A stop during start-up lets the start finish first, so nothing is left running on a deleted folder.
            await asyncio.wait([starting])
            with waiting(console, "Stopping the local stack..."):
                await asyncio.to_thread(stack.down)


def _with_logs_kept(error: LocalStackError, stack_dir: Path) -> LocalStackError:
    """``error`` naming a copy of the failed stack's folder (its logs) outside the scratch folder the demo removes:
    the one ``error:`` line the demo ends with names logs that still exist (``bus.bootstrap.startup_failure_exit``)."""
    kept = Path(tempfile.mkdtemp(prefix="omnibus-demo-failed-start-"))
    try:
        shutil.copytree(stack_dir, kept, dirs_exist_ok=True)
    except OSError:
        return error
    return type(error)(str(error).replace(str(stack_dir), str(kept)))


async def _with_stack(state: dict[str, Any], workdir: Path, count: int, keep_running: bool, console: Console,
                      inspect: Inspect | None = None) -> bool:
    settings = demo_settings(state, metrics_port=0)
    report.stack(console, state)
    await apply_topics(settings)
    await apply_topics(settings, kpi_changelogs(settings))  # faust's own, ahead of its start: no metadata race
    people = customers(count)
    await publish_demo_offer(settings)
    watch = InstructionWatch(settings)
    await watch.start()
    async with running_middleware(settings, workdir) as endpoints, aiohttp.ClientSession() as http:
        await _drive(http, endpoints, people, workdir, console)
        serializer, _ = build_serde(settings.registry)
        async with EventProducer(settings, serializer) as producer:
            await backoffice.work_the_queue(producer, settings, people)
        rejected = await _send_malformed(http, endpoints)
        offered = await offer_journey(http, endpoints, watch, people[0], console)
        await watch.stop()
        profile = await _await_screen_pop(http, endpoints, people[0], console, settings)
        await report.summary(console, settings, people[0], profile, rejected)
        if inspect is not None:
            await inspect(settings, endpoints)
        if keep_running:
            shown = (profile or {}).get("customer_id")  # the customer the summary showed: its screen pop answers
            report.keep_running(console, endpoints, settings, state.get("state_dir"), shown=shown)
            await asyncio.Event().wait()
    return offered and profile is not None and _from_every_channel(profile)


async def _drive(http: aiohttp.ClientSession, endpoints: Endpoints, people: list[DemoCustomer], workdir: Path,
                 console: Console) -> None:
    start = datetime.now(UTC) - timedelta(hours=2)
    web_auth = {"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}
    with Progress(console=console, transient=False) as progress:
        journeys = progress.add_task("Customer journeys (web, call center, counter)", total=len(people))
        for customer in people:
            moment = start + timedelta(minutes=customer.index)
            batch = {"batch": traffic.web_journey(customer, moment), "sentAt": datetime.now(UTC).isoformat()}
            await _post(http, f"{endpoints.web}/v1/batch", batch, headers=web_auth)
            ctr = traffic.connect_ctr(customer, moment + timedelta(minutes=10), answered=customer.index % 6 != 5)
            await _post(http, f"{endpoints.call_center}/v1/connect/ctr", ctr,
                        headers={"X-Amz-Firehose-Access-Key": SITE_KEY})
            visit = traffic.counter_visit(customer, moment + timedelta(minutes=30), TERMINAL_ID, BRANCH_ID)
            await _post(http, f"{endpoints.branch}/v1/counter/events", visit,
                        headers={"Authorization": f"Bearer {TERMINAL_TOKEN}"})
            progress.advance(journeys)
        files = progress.add_task("Nightly billing exports (batch files)", total=2)
        for name, layout, content in (
            ("subscriptions", traffic.SUBSCRIPTIONS_LAYOUT, traffic.subscriptions_csv(people)),
            ("bills", traffic.BILLS_LAYOUT, traffic.bills_csv(people)),
        ):
            await _import(endpoints, workdir, name, layout, content)
            progress.advance(files)


async def _import(endpoints: Endpoints, workdir: Path, name: str, layout_text: str, content: str) -> None:
    from adapters.legacy.layout import load_layout

    folder = workdir / "exports"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(layout_text)
    (folder / f"{name}.csv").write_text(content)
    with logged_as(adapter_component(LEGACY)):  # an ``import-batch``'s lines name the legacy adapter, as its command's
        await endpoints.batch.import_file(folder / f"{name}.csv", load_layout(folder / f"{name}.yaml"))


RETRIABLE_STATUSES = frozenset({429, 503})
MAX_ATTEMPTS = 8
MAX_BACKOFF_S = 5.0


async def _post(http: aiohttp.ClientSession, url: str, body: Any, **options: Any) -> None:
    """POST like the Segment and Connect SDKs do: 429 and 503 are retried, waiting ``Retry-After`` seconds
    (or an exponential backoff from 0.25 s, at most 5 s) up to 8 attempts; any other non-2xx is an error.

    Raises ``RuntimeError`` with the last status and body when the adapter never accepted the request.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        async with http.post(url, json=body, **options) as response:
            if response.status < 300:
                return
            text = await response.text()
            if response.status not in RETRIABLE_STATUSES or attempt == MAX_ATTEMPTS:
                raise RuntimeError(f"{url} answered {response.status} (attempt {attempt}): {text}")
            wait_s = _retry_after_s(response.headers.get("Retry-After"), attempt)
        await asyncio.sleep(wait_s)


def _retry_after_s(header: str | None, attempt: int) -> float:
    try:
        return min(MAX_BACKOFF_S, max(0.0, float(header))) if header else min(MAX_BACKOFF_S, 0.25 * 2 ** attempt)
    except ValueError:
        return min(MAX_BACKOFF_S, 0.25 * 2 ** attempt)


async def _send_malformed(http: aiohttp.ClientSession, endpoints: Endpoints) -> dict[str, Any]:
    """A portal bug: an identify without userId or anonymousId. The sender gets the reason; it is dead-lettered,
    with the national ID and card number it carries replaced by their tokens (never raw on a topic)."""
    auth = {"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}
    body = {"traits": {"email": "x@example.com", "national_id": MALFORMED_NATIONAL_ID, "card": MALFORMED_CARD}}
    async with http.post(f"{endpoints.web}/v1/identify", json=body, headers=auth) as response:
        return {"status": response.status, "body": await response.json()}


async def _await_screen_pop(http: aiohttp.ClientSession, endpoints: Endpoints, customer: DemoCustomer,
                            console: Console, settings: OmnibusSettings) -> dict[str, Any] | None:
    """Ask by the e-mail address, which only the web hall ever saw, until every channel shows up: waiting while
    the profile grows or records still land on the topics (``demo.settle``); on giving up, say what is missing."""
    url = report.lookup_url(endpoints, customer.email)
    clock = asyncio.get_running_loop().time
    settling = settle.Settling(started_at=clock())
    found, records, counted_at = None, 0, 0.0
    with waiting(console, "Waiting for the processors to link every channel..."):
        while True:
            async with http.get(url) as response:
                if response.status == 200:
                    found = await response.json()
                    if not settle.missing(found):
                        return found
            if clock() - counted_at >= TOPIC_COUNT_EVERY_S:
                records, counted_at = sum(count for _, count in await report.topic_counts(settings)), clock()
            if not settling.observe((settle.fingerprint(found), records), clock()):
                break
            await asyncio.sleep(1.0)
    report.incomplete(console, customer, settle.missing(found), settling.why_stopped(clock()))
    return found


def _from_every_channel(profile: dict[str, Any]) -> bool:
    channels = {contact.get("channel") for contact in report.contacts(profile)}
    return {"WEB", "CALL_CENTER", "BRANCH"} <= channels and bool(report.products(profile))
