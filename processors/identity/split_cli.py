"""``omnibus identity split --customer ID --identifier TYPE:value ... --by --reason``: an operator moves identifiers of
a wrongly merged customer to one new customer (the rule: ``processors.identity.unmerge``, ``graph/split.py``)."""

from __future__ import annotations

import asyncio
import time
import uuid

import typer

from bus.cli.operator_text import operator_id
from bus.logging import get_logger
from processors.identity.cli_common import (
    _checked_reason,
    _identifier_key_or_exit,
    _keyed_settings_or_exit,
    _publish,
    _refuse_unknown,
    read_owners_and_customer_events,
)
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.normalize import IdentifierNormalizer


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
