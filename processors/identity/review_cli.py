"""``omnibus identity review list | accept ID | reject ID``: merge candidates the matcher could not decide, and the
operator's decision on each (the rules: ``processors.identity.review``)."""

from __future__ import annotations

import asyncio
import uuid

import typer

from bus.cli.json_lines import JSON_LINES_HELP, echo_json_lines
from bus.cli.operator_text import operator_id
from bus.logging import get_logger
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import IDENTITY_GRAPH
from processors.identity.cli_common import _checked_reason, _current_owners, _settings_or_exit
from processors.identity.graph.messages.base import EventRef
from processors.identity.review_list import print_reviews, review_lines
from processors.identity.review_reads import _listing, _review_events
from processors.identity.review_refusals import _no_open_review_exit, _refuse_two_people
from processors.identity.wire import RoutingSerializer, encode_record, encoded_graph_event

review_app = typer.Typer(
    no_args_is_help=True, help="Merge candidates the matcher could not decide: list, accept, reject."
)


@review_app.command("list")
def review_list(
    as_json: bool = typer.Option(False, "--json", help=f"{JSON_LINES_HELP} (ids, weight, per-field level and weight)"),
) -> None:
    """Merge candidates waiting for a decision: per compared field its level and weight (bits), identifiers
    by kind and masked; then the requests closed (merged since) or superseded (``--json``: each with its state)."""
    from processors.identity.rules import LinkPolicy

    settings, identity = _settings_or_exit()
    reviews, sides, closed, superseded = asyncio.run(_listing(settings))
    matcher = LinkPolicy(identity).matcher
    if as_json:
        echo_json_lines(review_lines(reviews, matcher, sides, closed, superseded))
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


# The arguments of both decisions (one declaration: their help reads the same)
REVIEW_ID = typer.Argument(..., help="Review id from `omnibus identity review list` (or its first characters, when no "
                           "other review begins with them).")
DECIDED_BY = typer.Option(..., "--by", help="Who decides (recorded with the decision).")
DECIDED_WHY = typer.Option(..., "--reason", help="Why (recorded with the decision).")


@review_app.command("accept")
def review_accept(review_id: str = REVIEW_ID, by: str = DECIDED_BY, reason: str = DECIDED_WHY) -> None:
    """Merge the two customers of a review."""
    _decide(review_id, accept=True, operator=by, reason=reason)


@review_app.command("reject")
def review_reject(review_id: str = REVIEW_ID, by: str = DECIDED_BY, reason: str = DECIDED_WHY) -> None:
    """Keep the two customers of a review apart for good."""
    _decide(review_id, accept=False, operator=by, reason=reason)
