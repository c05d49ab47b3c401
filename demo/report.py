"""What the demo shows on the terminal."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from bus.config import OmnibusSettings
from bus.identifiers.customer_number import CustomerNumberFormat, normalise_customer_number
from bus.topics import ALL_TOPICS, IDENTITY_REVIEWS
from demo.people import DemoCustomer
from demo.services import Endpoints, demo_timezone


def contacts(profile: dict[str, Any]) -> list[dict[str, Any]]:
    return list(profile.get("recent_contacts") or [])


def products(profile: dict[str, Any]) -> list[dict[str, Any]]:
    return list((profile.get("products") or {}).get("products") or [])


def product_line(product: dict[str, Any]) -> str:
    """A product of the screen pop on one line: its name, and a cancelled one marked with its date (F2)."""
    name = product.get("product_name") or product.get("product_code", "?")
    if product.get("status") == "ACTIVE" or not product.get("closed_at"):
        return str(name)
    return f"{name} ({str(product.get('status', '')).lower()} {shown_time(product['closed_at'])[:10]})"


def stack(console: Console, state: dict[str, Any]) -> None:
    registry = state.get("registry") or {}
    console.print(Panel.fit(
        f"Kafka (KRaft) at [bold]{state['kafka']['bootstrap_servers']}[/]\n"
        f"Schema registry at [bold]{registry.get('url') or 'none: registry-free single-object encoding'}[/]",
        title="Local stack",
    ))


async def topic_counts(settings: OmnibusSettings) -> list[tuple[str, int]]:
    """Records on each Omnibus topic (end offsets; nothing is compacted away in a demo this short)."""
    from aiokafka.admin import AIOKafkaAdminClient

    from bus.kafka_client import connection_options

    names = [spec.name(settings.topics) for spec in ALL_TOPICS]
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:
        described = await admin.describe_topics(names)
        partitions = {t["topic"]: [p["partition"] for p in t["partitions"]] for t in described}
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(**connection_options(settings.kafka), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(name, p) for name in names for p in partitions.get(name, [])]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return [(name, sum(v for tp, v in ends.items() if tp.topic == name)) for name in names]


async def summary(console: Console, settings: OmnibusSettings, customer: DemoCustomer,
                  profile: dict[str, Any] | None, rejected: dict[str, Any]) -> None:
    console.print(topics_table(await topic_counts(settings), settings))

    console.print(Panel.fit(
        f"HTTP {rejected['status']}: {rejected['body'].get('error') or rejected['body']}\n"
        "The original body is on the dead-letter topic with this reason, sealed for re-drive: with --keep-running,\n"
        "omnibus deadletters list, then show ID (the stack stops when the demo ends).",
        title="A malformed identify from the portal",
    ))
    if profile is None:
        console.print(f"[red]The screen pop never found {customer.name}.[/]")
        return
    console.print(screen_pop_table(customer.name, profile))


def topics_table(counts: list[tuple[str, int]], settings: OmnibusSettings) -> Table:
    """Records per topic; its caption says why the review topic's count is not the open reviews' (a new user saw
    10 records there and ``0 open review(s)`` from ``omnibus identity review list``)."""
    reviews = IDENTITY_REVIEWS.name(settings.topics)
    table = Table("topic", "records", title="What landed on Kafka",
                  caption=f"{reviews} keeps every review opened and every decision; omnibus identity review list "
                          "shows the ones still open")
    for name, count in counts:
        table.add_row(name, str(count))
    return table


def shown_time(value: object) -> str:
    """An ISO-8601 instant of the screen pop (``2026-11-30T12:41:32.032782+00:00``) as ``2026-11-30 12:41:32 UTC``,
    in UTC, to the second and saying so (new-user finding #13: the due date was printed raw; a contact time without
    its zone was read as local beside a due date marked UTC); anything else as it is."""
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return str(value or "")


def screen_pop_table(name: str, profile: dict[str, Any]) -> Table:
    """The agent's screen pop as two columns that fit 80 columns whole: one identifier per line, contact times to
    the second (at 80 columns a line of identifiers was cut, ``USER_ID u-01…``), and each identifier several people
    use (``shared_identifier``, ``shared_identifiers``) with the customers it may be."""
    pop = Table("", "", title=f"Screen pop for {name}, looked up by e-mail (seen only on the web hall)",
                show_header=False)
    pop.add_row("customer id", profile.get("customer_id", "?"))
    pop.add_row("identifiers", "\n".join(f"{i['type']} {i['value']}" for i in profile.get("identifiers", [])))
    names = [product_line(p) for p in products(profile)]
    pop.add_row("products", "\n".join(names) or "-")
    for contact in contacts(profile)[:8]:
        at = shown_time(contact.get("occurred_at"))
        pop.add_row(f"contact {contact.get('channel')}", f"{at} {contact.get('kind', '')} "
                    f"{contact.get('name') or contact.get('topic') or ''}")
    for handoff in profile.get("open_handoffs") or []:
        pop.add_row("open handoff", f"{handoff.get('case_type')} -> {handoff.get('team')}, owner "
                    f"{handoff.get('owner_id') or 'none yet'} ({handoff.get('status')})\n"
                    f"due {shown_time(handoff.get('deadline_at'))}")
    # The looked-up identifier's hint (``shared_identifier``) first, then the customer's others, each once.
    for shared in [profile.get("shared_identifier"), *(profile.get("shared_identifiers") or [])]:
        if shared:
            pop.add_row(f"shared {shared.get('type')}", shared.get("note", ""))
    return pop


def _verified() -> str:
    from demo.traffic import VERIFIED_BY_THE_IVR

    return ", ".join(f"{kind} {' '.join(names)}" for kind, names in VERIFIED_BY_THE_IVR.items())


def lookup_url(endpoints: Endpoints, email: str) -> str:
    """The screen pop of the customer with e-mail address ``email`` (``GET /customers/lookup``)."""
    return f"{endpoints.screen_pop}/customers/lookup?{urlencode({'type': 'EMAIL', 'value': email}, safe='@')}"


def keep_running(console: Console, endpoints: Endpoints, settings: OmnibusSettings,
                 stack_dir: str | None = None, *, shown: str | None) -> None:
    """Every address and key a user needs to post by hand (the demo's own throwaway credentials), and the
    environment other ``omnibus`` commands (``verify``, ``identity review list``, ``identity pop``, ``kpis run``,
    ``stack status`` / ``stack up`` after a crash: ``OMNIBUS_STACK_DIR``) need for this stack. ``shown``: the id of the
    customer whose screen pop the demo showed (None: none was found), whose screen pop URL is printed: it answers 200
    (the banner's lookup of ``u-1@example.org``, whom nothing had posted yet, answered 404)."""
    from demo.services import DEMO_HMAC_KEY, OFFERS_POLICY, POLICY, SITE_KEY, TERMINAL_ID, TERMINAL_TOKEN, WRITE_KEY

    found = settings.identifiers.customer_number_format
    number_format = found.model_dump(exclude_defaults=True) if found is not None else None
    environment = {
        "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "OMNIBUS_REGISTRY__URL": settings.registry.url or "",
        "OMNIBUS_TOPICS__PARTITIONS": str(settings.topics.partitions),
        "OMNIBUS_IDENTIFIERS__HMAC_KEY": DEMO_HMAC_KEY,
        "OMNIBUS_IDENTIFIERS__DEFAULT_REGION": settings.identifiers.default_region or "",
        # JSON in single quotes: the shell keeps the double quotes (bus.config reads lists as JSON)
        "OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES": f"'{json.dumps(list(settings.identifiers.national_id_schemes))}'",
        # an import-batch of a billing export in another shell spells its customer numbers as the demo's call center
        "OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT": f"'{json.dumps(number_format)}'" if number_format else "",
        "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY": DEMO_HMAC_KEY,
        # `omnibus identity pop` asks the screen pop at this port unless given --url
        "OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT": str(urlsplit(endpoints.screen_pop).port or ""),
        "OMNIBUS_PROCESSOR_HANDOFFS__POLICY_FILE": str(POLICY),
        # `omnibus deadletters redrive` of the demo's refused identify opens its sealed body with the adapters' key
        "OMNIBUS_DEAD_LETTERS__SEAL_KEY": seal.get_secret_value() if (seal := settings.dead_letters.seal_key) else "",
    }
    if stack_dir:  # else `omnibus stack status` from the repository finds no stack
        environment["OMNIBUS_STACK_DIR"] = stack_dir

    quiet = OFFERS_POLICY.quiet_hours
    console.rule("Still running")
    # Outside any box, one address per line and its credentials indented below it: at 80 columns a box wrapped
    # them, a URL cut in two. Addresses and keys are printed as they are (soft wrap: a longer one is never cut).
    for line in (
        f"web hall (Segment API)  {endpoints.web}",
        f"    write key {WRITE_KEY} (Basic auth user, empty password)",
        f"branch counters         {endpoints.branch}",
        f"    terminal {TERMINAL_ID}, header Authorization: Bearer {TERMINAL_TOKEN}",
        f"call center             {endpoints.call_center}",
        f"    header X-Amz-Firehose-Access-Key: {SITE_KEY}",
        "screen pop" + ("" if shown else " (no customer was shown above)"),
        *([f"    {endpoints.screen_pop}/customers/{shown}", "    the customer shown above; by any identifier:"]
          if shown else []),
        f"    {endpoints.screen_pop}/customers/lookup?type=EMAIL&value=...",
        "offers",
        f"    {endpoints.offers}/customers/{{customer_id}}/offers?channel=WEB",
        f"KPIs                    {endpoints.kpis}/kpis?granularity=DAY",
        f"phone region            {settings.identifiers.default_region or '(none: +country required)'}",
        "    of numbers written without +country (OMNIBUS_IDENTIFIERS__DEFAULT_REGION)",
        f"customer numbers        {_spelled(found)}",
        "    (OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT); the call center reads",
        "    an account or customer number typed on the keypad only from the",
        "    attributes named in OMNIBUS_ADAPTER_CALL_CENTER__VERIFIED_RECORD_ATTRIBUTES",
        f"    (the demo's IVR checks the date of birth: {_verified()})",
        f"offers time zone        {demo_timezone(settings)}",
        "    of customers of unknown country (OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE)",
        f"offers quiet hours      {f'{quiet.start}-{quiet.end}' if quiet else 'off: offers show at any hour'}",
        "    the demo's contact policy (an offer's own quiet_hours still apply)",
        f"metrics (Prometheus)    {endpoints.metrics or '(disabled)'}",
        "    every component's: they all run in this one process",
        "OpenAPI descriptions at /openapi.json on each adapter.",
        # a script's background job ignores SIGINT, so say how a script stops it
        f"Ctrl-C, or `kill -TERM {os.getpid()}` from a script, stops and removes everything.",
    ):
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    commands(console, "Post by hand, e.g.:", [
        f"curl -u {WRITE_KEY}: -H 'Content-Type: application/json' {endpoints.web}/v1/identify "
        "-d '{\"userId\":\"u-1\",\"traits\":{\"email\":\"u-1@example.org\"}}'",
        f"curl '{lookup_url(endpoints, 'u-1@example.org')}'",
    ])
    commands(console, "Other omnibus commands against this stack (verify, identity review list, identity pop, "
             "kpis run), "
             "in another shell:", [f"export {name}={value}" for name, value in environment.items() if value])


def _spelled(number_format: CustomerNumberFormat | None) -> str:
    """How the stack spells a customer number typed ``770002`` (``bus.identifiers.customer_number``)."""
    if number_format is None:
        return "as written (770002 and C-770002 are two)"
    return f"a keypad's 770002 is {normalise_customer_number('770002', number_format)}"


def commands(console: Console, heading: str, lines: list[str]) -> None:
    """``lines`` printed as they are, outside any box, never wrapped or marked up: they can be pasted."""
    console.print(heading)
    for line in lines:
        console.print(line, soft_wrap=True, markup=False, highlight=False)


def incomplete(console: Console, customer: DemoCustomer, missing: list[str], why: str) -> None:
    """Why the wait for ``customer``'s screen pop ended (``why``), what it still lacks, and what to try."""
    from demo.settle import TRY_NEXT

    console.print(f"[red]The screen pop for {customer.name} is incomplete: {why}.[/]")
    for step in missing:
        console.print(f"  missing: {step}")
    console.print(TRY_NEXT, soft_wrap=True, markup=False, highlight=False)
