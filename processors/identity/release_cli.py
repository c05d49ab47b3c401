"""``omnibus identity release TYPE VALUE --customer ID`` and ``omnibus identity move-contact CONTACT --from --to``: an
operator takes one identifier, or one contact, off a customer (the rules: ``graph/release.py``,
``graph/move_contact.py``)."""

from __future__ import annotations

import asyncio
import time
import uuid

import typer

from bus.cli.operator_text import operator_id, operator_text
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.identifiers.kinds import label as kind_label
from bus.logging import get_logger
from processors.identity.cli_common import (
    _checked_reason,
    _current_owners,
    _identifier_key_or_exit,
    _keyed_settings_or_exit,
    _publish,
    _refuse_unknown,
    _settings_or_exit,
    current_customers,
    read_owners_and_customer_events,
)
from processors.identity.graph.messages.commands import MoveContact, ReleaseIdentifier
from processors.identity.normalize import IdentifierNormalizer
from processors.identity.rules import kind_of


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
