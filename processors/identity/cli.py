"""``omnibus identity run | openapi | pop | split | merge | unmerge | move-contact | release | review list | review
accept ID | review reject ID``: the ``identity`` group; ``pop``, ``merge`` and ``unmerge`` are in ``pop_cli.py``,
``merge_cli.py`` and ``cli_unmerge.py``, what the commands share in ``cli_common.py``."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import TYPE_CHECKING, NoReturn

import typer

from bus.bootstrap import bad_settings_exit, start_process
from bus.cli.json_lines import JSON_LINES_HELP, echo_json_lines
from bus.cli.operator_text import operator_id, operator_text
from bus.config import OmnibusSettings
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.identifiers.kinds import label as kind_label
from bus.logging import get_logger
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import IDENTITY_GRAPH
from processors.identity.cli_common import (
    _checked_reason,
    _current_owners,
    _keyed_settings_or_exit,
    _publish,
    _settings_or_exit,
    current_customers,
    read_owners_and_customer_events,
)
from processors.identity.cli_unmerge import unmerge_command
from processors.identity.config import ENV_PREFIX, load_identity_settings
from processors.identity.graph.messages.base import EventRef
from processors.identity.graph.messages.commands import MoveContact, ReleaseIdentifier, SplitCustomer
from processors.identity.merge_cli import merge_command
from processors.identity.normalize import IdentifierNormalizer, Rejected
from processors.identity.pop_cli import pop_command
from processors.identity.review_list import print_reviews
from processors.identity.review_sides import Side
from processors.identity.rules import kind_of
from processors.identity.wire import RoutingSerializer, encode_record, encoded_graph_event

if TYPE_CHECKING:

    from processors.identity.config import IdentitySettings
    from processors.identity.review import OpenReview

app = typer.Typer(no_args_is_help=True)
review_app = typer.Typer(
    no_args_is_help=True, help="Merge candidates the matcher could not decide: list, accept, reject."
)
app.add_typer(review_app, name="review")
app.command("unmerge")(unmerge_command)


@app.command("run")
def run_command(
    ctx: typer.Context,
    web_port: int = typer.Option(None, help="Screen-pop HTTP port (overrides OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT)."),
) -> None:
    """Run an identity-resolution worker (start several: the graph is partitioned across them)."""
    from bus.app import run_worker
    from processors.identity.agent import IdentityProcessor

    process = start_process(lambda _: load_identity_settings())
    settings, identity = process.settings, process.component
    book = getattr(ctx.obj, "profile_book", None)  # handed in by the composition (omnibus.cli)
    port = web_port if web_port is not None else identity.web_port
    with bad_settings_exit():
        processor = IdentityProcessor(settings, identity, web_port=port, book=book() if book else None)
    run_worker(processor.app, settings, web_port_setting=f"{ENV_PREFIX}WEB_PORT (or --web-port)")


@app.command("openapi")
def openapi_command() -> None:
    """Print the screen pop's OpenAPI document (what ``GET /openapi.json`` on identity's web port answers)."""
    from bus.identifiers.normaliser import load_identifier_settings
    from processors.identity.openapi import openapi

    # as this deployment's OMNIBUS_IDENTIFIERS__* serve it
    typer.echo(json.dumps(openapi(identifiers=load_identifier_settings()), indent=2))


app.command("pop")(pop_command)


@app.command("split")
def split_command(
    customer: str = typer.Option(..., help="Customer id the identifiers were wrongly linked to."),
    identifier: list[str] = typer.Option(..., help="TYPE:value to move to a new customer (repeat the option)."),
    by: str = typer.Option(..., "--by", help="Who splits (recorded in the CustomerSplit announcement)."),
    reason: str = typer.Option(..., help="Why: kept in the CustomerSplit announcement."),
) -> None:
    """Move identifiers of a wrongly merged customer together to one new customer; the two never merge again. Prints
    what moves and what stays. To give back a customer a merge ended, `identity unmerge` moves what it brought."""
    from processors.identity.unmerge import merge_records, split_lines, split_plan

    operator, why = operator_id("--by", by), _checked_reason(reason)
    settings, identity = _keyed_settings_or_exit()
    normalizer = IdentifierNormalizer(identity, settings.identifiers)
    keys = []
    for position, item in enumerate(identifier, start=1):
        keys.append(_identifier_key_or_exit(normalizer, f"--identifier number {position}", item))
    owners, events = asyncio.run(read_owners_and_customer_events(settings))
    _refuse_unknown(customer, keys, owners)
    command_id = str(uuid.uuid4())
    message = SplitCustomer(keys, why, command_id, int(time.time() * 1e6), operator=operator)
    asyncio.run(_publish(settings, customer, message))
    get_logger(__name__).info("split requested", command_id=command_id, moved=len(keys))
    typer.echo(f"split requested (command {command_id}); CustomerSplit follows on customer.events.v1")
    for line in split_lines(split_plan(customer, keys, owners), merge_records(events)):
        typer.echo(line)


app.command("merge")(merge_command)


@app.command("move-contact")
def move_contact_command(
    contact_id: str = typer.Argument(..., help="The contact's id as the screen pop shows it (recent_contacts id)."),
    source: str = typer.Option(..., "--from", help="Customer id whose screen pop shows the contact now."),
    to: str = typer.Option(..., "--to", help="Customer id the contact belongs to."),
    by: str = typer.Option(..., "--by", help="Who moves it (recorded in the ContactMoved announcement)."),
    reason: str = typer.Option(..., help="Why (recorded in the ContactMoved announcement)."),
) -> None:
    """Move one contact from one customer's screen pop to another's (its identifiers stay where they are)."""
    operator, why = operator_id("--by", by), _checked_reason(reason)
    settings, _ = _settings_or_exit()
    if source == to:
        typer.echo("error: --from and --to name the same customer", err=True)
        raise typer.Exit(2)
    current = current_customers(*asyncio.run(read_owners_and_customer_events(settings)))
    for option, customer in (("--from", source), ("--to", to)):
        if customer not in current:
            typer.echo(f"error: {option}: no current customer {customer} on customer.events.v1 or "
                       "customer.identifiers.v1 (unknown, or merged into another: look it up in the screen pop for "
                       "the current id)", err=True)
            raise typer.Exit(2)
    # Imported here: it reads the contacts topic as verify does, and `identity run` must not load verify or handoffs.
    from processors.identity.move_check import contact_records, refuse_elsewhere, shown_id

    contact_id = shown_id(contact_id)  # the graph matches the screen pop's id (move_contact._named)
    refuse_elsewhere(contact_id, source, asyncio.run(contact_records(settings)))
    command_id = str(uuid.uuid4())
    asyncio.run(_publish(settings, source, MoveContact(contact_id, to, operator, why, command_id)))
    get_logger(__name__).info("contact move requested", command_id=command_id)
    typer.echo(f"move of contact {contact_id} requested (command {command_id}); ContactMoved follows on "
               "customer.events.v1 (its moved_event_ids list what moved; empty if the customer no longer records that "
               "contact)")


@app.command("release")
def release_command(
    kind: str = typer.Argument(..., metavar="TYPE", help=f"Identifier type ({', '.join(IDENTIFIER_TYPES)})."),
    value: str = typer.Argument(..., help="The identifier as written anywhere (a phone as dialled, an e-mail)."),
    customer: str = typer.Option(..., help="Customer id that holds it now (the previous subscriber), or one the "
                                 "screen pop names among its users that should not be (it stops being one)."),
    by: str = typer.Option(..., "--by", help="Who releases it (recorded in the LinkRefused announcement)."),
    reason: str = typer.Option(None, help="Why, e.g. 'line ceased' or 'ported out' (recorded with it)."),
    region: str = typer.Option(None, help="Phone region the number is dialled in (ISO 3166-1 alpha-2, e.g. FR) "
                               "when not the deployment's default."),
) -> None:
    """Release an identifier from its customer (a number ported out or ceased on an open account, a closed e-mail; one
    billing recycles after closing the contract moves by itself, ``graph/recycle.py``): the next event that carries
    it makes or joins the customer its other identifiers lead to; the old customer keeps its history. Of a customer
    that does not hold it, but that its screen pop names among its users (a keypad typo's call): that customer is no
    longer one of them (``graph/release.py``, ``on_disown``); the holder keeps it."""
    operator = operator_id("--by", by)
    why = operator_text("--reason", reason) if reason and reason.strip() else None
    settings, identity = _keyed_settings_or_exit()
    try:
        key = _identifier_key_or_exit(IdentifierNormalizer(identity, settings.identifiers), "the identifier",
                                      f"{kind}:{value}", region=region)
    except ValueError:  # an unknown region
        typer.echo(f"error: --region {region!r} is not a known phone region", err=True)
        raise typer.Exit(2) from None
    owners = asyncio.run(_current_owners(settings))
    _refuse_unknown(customer, [], owners)
    command_id = str(uuid.uuid4())
    message = ReleaseIdentifier(key, operator, why, command_id, int(time.time() * 1e6))
    asyncio.run(_publish(settings, customer, message))
    get_logger(__name__).info("release requested", command_id=command_id, kind=kind_of(key))
    if owners.get(key) == customer:
        typer.echo(f"release of {kind_label(kind_of(key))} ({kind_of(key)}) from {customer} requested "
                   f"(command {command_id}); LinkRefused (rule manual-release, evicted) follows on customer.events.v1")
        return
    # Not its holder: one of its users (the screen pop's shared_identifier names it), which stops being one.
    typer.echo(f"{customer} does not hold the {kind_of(key)} identifier: its removal from the identifier's users "
               f"requested (command {command_id}); LinkRefused (rule manual-release, not evicted) follows on "
               "customer.events.v1")


def _identifier_key_or_exit(normalizer: IdentifierNormalizer, label: str, item: str,
                            region: str | None = None) -> str:
    """The key of ``item`` (``TYPE:value``; a phone read in ``region`` when given, ``ValueError`` if unknown), else
    exit 2 with one line naming it by ``label`` (``--identifier number 2``) and type, when valid, only: the raw text
    may hold the value, which never reaches a terminal."""
    kind, sep, value = item.partition(":")
    if not sep:
        typer.echo(f"error: {label} is not of the form TYPE:value "
                   f"(TYPE one of {', '.join(IDENTIFIER_TYPES)})", err=True)
        raise typer.Exit(2)
    result = normalizer.normalize({"type": kind.strip().upper(), "value": value}, region=region, lookup=True)
    if isinstance(result, Rejected):
        named = f" ({result.type})" if result.type in IDENTIFIER_TYPES else ""
        typer.echo(f"error: {label}{named} rejected: {result.reason}", err=True)
        raise typer.Exit(2)
    return result.key


def _refuse_unknown(customer: str, keys: list[str], owners: dict[str, str], labels: list[str] | None = None) -> None:
    """Exit 2 with one line unless ``customer`` is a current customer holding every key of ``keys``: a split (or a
    release) of an unknown or merged-away id would be published and ignored by the graph (exit 0, nothing follows).
    The line names identifiers by ``labels`` (default ``--identifier number N``) and type only (values stay off
    terminals and logs)."""
    if customer not in owners.values():
        typer.echo(f"error: no current customer {customer} on customer.identifiers.v1 (unknown, or merged into "
                   "another: look the identifier up in the screen pop for the current id)", err=True)
        raise typer.Exit(2)
    labels = labels or [f"--identifier number {position}" for position in range(1, len(keys) + 1)]
    for label, key in zip(labels, keys, strict=True):
        if owners.get(key) != customer:
            typer.echo(f"error: {label} ({kind_of(key)}) is not held by customer {customer}", err=True)
            raise typer.Exit(2)


async def _review_events(settings: OmnibusSettings) -> tuple[list[Event], dict[str, str]]:
    """The review topic's events, and every merge so far (merged-away customer id -> survivor id, from
    ``customer.events.v1``): requests for the same two customers under ids that merged since are one review."""
    events, survivors, _ = await _review_and_customer_events(settings)
    return events, survivors


async def _review_and_customer_events(settings: OmnibusSettings) -> tuple[list[Event], dict[str, str], list[Event]]:
    """``_review_events`` and the customer events it read them with."""
    from bus.replay import replay_topic
    from bus.topics import CUSTOMER_EVENTS, IDENTITY_REVIEWS
    from processors.verify.identity import MERGED

    reviews, customers = await asyncio.gather(replay_topic(settings, IDENTITY_REVIEWS),
                                              replay_topic(settings, CUSTOMER_EVENTS))
    survivors = {event.value["merged_customer_id"]: event.value["survivor_customer_id"]
                 for event in customers.events if event.schema == MERGED}
    return list(reviews.events), survivors, list(customers.events)


async def _open_reviews(settings: OmnibusSettings) -> list[OpenReview]:
    from processors.identity.review import open_reviews

    return open_reviews(*await _review_events(settings))


async def _listing(settings: OmnibusSettings
                   ) -> tuple[list[OpenReview], dict[str, Side], list[OpenReview], dict[str, str]]:
    """The open reviews, what each current customer holds (``review_sides``, who holds what as
    ``customer.identifiers.v1`` says), the requests whose two customers have merged since, and those a later request
    of the same two customers superseded (id -> the open one's id), from one read of the topics."""
    from processors.identity.review import closed_reviews, open_reviews, superseded_reviews
    from processors.identity.review_sides import customer_sides

    (events, survivors, customers), owners = await asyncio.gather(_review_and_customer_events(settings),
                                                                  _current_owners(settings))
    return (open_reviews(events, survivors), customer_sides(customers, owners),
            closed_reviews(events, survivors), superseded_reviews(events, survivors))


def _no_open_review_exit(review_id: str, events: list[Event], survivors: dict[str, str]) -> NoReturn:
    """Exit 2 with one line: already decided (by whom, when; also when another request for the same two
    customers was), its two customers merged since, or unknown."""
    from processors.identity.review import decided_as, decided_reviews, merged_since, superseded_reviews

    decided_id = decided_as(review_id, events, survivors)
    decided = decided_reviews(events).get(decided_id) if decided_id is not None else None
    superseded_by = superseded_reviews(events, survivors).get(review_id)
    if superseded_by is not None:  # tester27 F7: answered "no open review", as if it never was
        typer.echo(f"error: review {review_id} was superseded by review {superseded_by}, a later request for the same "
                   f"two customers: decide that one (omnibus identity review accept|reject {superseded_by})", err=True)
    elif decided is not None:
        also = "" if decided_id == review_id else f" (as review {decided_id}, the same two customers)"
        typer.echo(f"error: review {review_id} was already {decided.describe()}{also}", err=True)
    elif merged_since(review_id, events, survivors):
        typer.echo(f"error: review {review_id}: its two customers have merged since", err=True)
    else:
        typer.echo(f"error: no open review {review_id} (see `omnibus identity review list`)", err=True)
    raise typer.Exit(2)


@review_app.command("list")
def review_list(
    as_json: bool = typer.Option(False, "--json", help=f"{JSON_LINES_HELP} (ids, weight, per-field level and weight)"),
) -> None:
    """Merge candidates waiting for a decision: per compared field its level and weight (bits), identifiers
    by kind and masked."""
    from processors.identity.review import as_json as review_json
    from processors.identity.rules import LinkPolicy

    settings, identity = _settings_or_exit()
    reviews, sides, closed, superseded = asyncio.run(_listing(settings))
    matcher = LinkPolicy(identity).matcher
    if as_json:
        echo_json_lines(review_json(review, matcher, sides) for review in reviews)
        return
    print_reviews(reviews, matcher, sides=sides, closed=closed, superseded=superseded)


def _no_event(ref: EventRef) -> Event:
    raise RuntimeError("a review decision publishes no contact event")


def _decide(review_id: str, *, accept: bool, operator: str, reason: str) -> None:
    from processors.identity.announcements import Announcer
    from processors.identity.review import (
        AmbiguousReviewId,
        NothingToLink,
        decision,
        linking_identifiers,
        open_reviews,
        resolved_review_id,
        review_ids,
    )

    operator, reason = operator_id("--by", operator), _checked_reason(reason)
    settings, identity = _settings_or_exit()
    events, survivors = asyncio.run(_review_events(settings))
    reviews = {review.review_id: review for review in open_reviews(events, survivors)}
    try:
        review_id = resolved_review_id(review_id, reviews, review_ids(events))
    except AmbiguousReviewId as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if review_id not in reviews:
        _no_open_review_exit(review_id, events, survivors)
    owners = asyncio.run(_current_owners(settings))
    try:
        identifiers = linking_identifiers(reviews[review_id], owners, survivors)
    except NothingToLink as exc:
        typer.echo(f"error: review {review_id} not {'accepted' if accept else 'rejected'}: {exc}", err=True)
        raise typer.Exit(2) from None
    if accept:
        _refuse_two_people(review_id, reviews[review_id], owners, survivors, identity)
    command_id = str(uuid.uuid4())
    send, record = decision(reviews[review_id], accept=accept, operator=operator, reason=reason, command_id=command_id,
                            identifiers=identifiers)

    async def publish() -> None:
        serializer, _ = build_serde(settings.registry)
        announcer = Announcer(settings.topics, _no_event)
        async with EventProducer(settings, RoutingSerializer(serializer)) as producer:
            graph = IDENTITY_GRAPH.name(settings.topics)
            # One acknowledged batch: the graph message that carries the decision out, and its record.
            carried = encoded_graph_event(encode_record([(send.node, send.message)]))
            await producer.publish_many([Outgoing(graph, send.node, carried), *announcer.outgoing(record)])

    asyncio.run(publish())
    get_logger(__name__).info("review decided", review_id=review_id, accepted=accept, command_id=command_id)
    typer.echo(f"review {review_id} {'accepted' if accept else 'rejected'} by {operator} (command {command_id})")


def _refuse_two_people(review_id: str, review: OpenReview, owners: dict[str, str], survivors: dict[str, str],
                       identity: IdentitySettings) -> None:
    """Exit 2 with one line when the review's two customers would hold together more identifiers of a type than its
    per-customer limit allows (``merge.over_limit``, as ``identity merge`` refuses: two national IDs, a review
    ``matching.mistyped`` opens; two portal logins, tester26 F9): the graph would refuse the accept's link
    (``LinkRefused`` ``max-per-customer``) after the CLI said "accepted". The line says how to merge them if one was
    mistyped."""
    from processors.identity.merge import held_by, over_limit
    from processors.identity.review import current_pair
    from processors.identity.rules import LinkPolicy

    first, second = sorted(current_pair(review, survivors))
    held = held_by(owners, survivors)
    over = over_limit(LinkPolicy(identity), held.get(first, []), held.get(second, []))
    if over is not None:
        typer.echo(f"error: review {review_id} not accepted: {over.refusal(first, second)}. If they are two "
                   f"people: omnibus identity review reject {review_id}", err=True)
        raise typer.Exit(2)


@review_app.command("accept")
def review_accept(
    review_id: str = typer.Argument(..., help="Review id from `omnibus identity review list` (or its first "
                                    "characters, when no other review begins with them)."),
    by: str = typer.Option(..., "--by", help="Who decides (recorded with the decision)."),
    reason: str = typer.Option(..., help="Why (recorded with the decision)."),
) -> None:
    """Merge the two customers of a review."""
    _decide(review_id, accept=True, operator=by, reason=reason)


@review_app.command("reject")
def review_reject(
    review_id: str = typer.Argument(..., help="Review id from `omnibus identity review list` (or its first "
                                    "characters, when no other review begins with them)."),
    by: str = typer.Option(..., "--by", help="Who decides (recorded with the decision)."),
    reason: str = typer.Option(..., help="Why (recorded with the decision)."),
) -> None:
    """Keep the two customers of a review apart for good."""
    _decide(review_id, accept=False, operator=by, reason=reason)
