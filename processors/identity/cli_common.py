"""What the identity operator commands share (``split_cli.py``, ``release_cli.py``, ``review_cli.py``, ``pop_cli.py``,
``merge_cli.py``, ``cli_unmerge.py``): their settings, the check of a decision's who and why, an identifier named on
the command line, who holds which identifier now, and the one way to send a command to the graph."""

from __future__ import annotations

import typer

from bus.bootstrap import bad_settings_exit
from bus.cli.operator_text import operator_text
from bus.config import OmnibusSettings, load_settings
from bus.errors import ConfigError
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import IDENTITY_GRAPH
from processors.identity.config import IdentitySettings, load_identity_settings
from processors.identity.graph.messages import AnyMessage
from processors.identity.normalize import IdentifierNormalizer, Rejected
from processors.identity.rules import kind_of
from processors.identity.wire import RoutingSerializer, encode_record, encoded_graph_event


def _keyed_settings_or_exit() -> tuple[OmnibusSettings, IdentitySettings]:
    """The settings of the commands that name an identifier by its value (split, release): they tokenise it as the
    workers do (a national ID with ``HMAC_KEY``), so they need the token key; else exit 2 with one line."""
    try:
        return load_settings(), load_identity_settings()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _settings_or_exit() -> tuple[OmnibusSettings, IdentitySettings]:
    """The settings of the review commands: they read the matcher's settings and publish identifiers already
    tokenised, so they need no token key (``load_identity_settings(token_key_needed=False)``)."""
    with bad_settings_exit():
        return load_settings(), load_identity_settings(token_key_needed=False)


def _checked_decision_text(option: str, text: str) -> str:
    """``text`` stripped, else exit 2 with one line: a decision records who decided and why."""
    if not text.strip():
        typer.echo(f"error: {option} must not be empty (it is recorded with the decision)", err=True)
        raise typer.Exit(2)
    return text.strip()


def _checked_reason(text: str) -> str:
    """A decision's ``--reason``: ``_checked_decision_text``, then scrubbed of identifier values as every channel's
    free text is, with a ``note:`` line saying what was masked (``bus.cli.operator_text``): the
    reason travels in the announcement every subscriber reads."""
    return operator_text("--reason", _checked_decision_text("--reason", text))


async def _current_owners(settings: OmnibusSettings) -> dict[str, str]:
    """Identifier key -> customer id, as a reader of ``customer.identifiers.v1`` holds it now."""
    from bus.topics import CUSTOMER_IDENTIFIERS
    from processors.replay import read_topics
    from processors.verify.identity import reader_rows

    replay = await read_topics(settings, [CUSTOMER_IDENTIFIERS])
    return {key: row["customer_id"] for key, row in reader_rows(replay.records).items()}


async def _publish(settings: object, customer: str, message: AnyMessage) -> None:
    """Send ``message`` to graph node ``customer`` (a customer id; an identifier key for a saga's ``Visit``)."""
    serializer, _ = build_serde(settings.registry)  # type: ignore[attr-defined]
    async with EventProducer(settings, RoutingSerializer(serializer)) as producer:  # type: ignore[arg-type]
        topic = IDENTITY_GRAPH.name(settings.topics)  # type: ignore[attr-defined]
        await producer.publish(Outgoing(topic, customer, encoded_graph_event(encode_record([(customer, message)]))))


async def read_owners_and_customer_events(settings: OmnibusSettings) -> tuple[dict[str, str], list[Event]]:
    """Identifier key -> customer id (``customer.identifiers.v1``, as a reader holds it) and every event of
    ``customer.events.v1``, read together."""
    import asyncio

    from bus.replay import replay_topic
    from bus.topics import CUSTOMER_EVENTS

    owners, customers = await asyncio.gather(_current_owners(settings), replay_topic(settings, CUSTOMER_EVENTS))
    return owners, list(customers.events)


def current_customers(owners: dict[str, str], events: list[Event]) -> set[str]:
    """The customers an operator command may name: every customer ``customer.events.v1`` created or split off that no
    merge ended, and every holder of an identifier (``owners``). Also those that hold no identifier any more (every
    one released, or a call's own customer, ``seek.own_customer``): their contacts, products and name are still on
    their screen pop, which only ``merge`` or ``move-contact`` can bring to the right customer."""
    from processors.identity.review_sides import customer_sides

    return set(customer_sides(events, owners))


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
