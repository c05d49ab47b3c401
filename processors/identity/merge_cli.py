"""``omnibus identity merge CUSTOMER OTHER --by --reason``: an operator joins two customers that are one person."""

from __future__ import annotations

import asyncio
import uuid

import typer

from bus.cli.operator_text import operator_id
from bus.config import OmnibusSettings
from bus.logging import get_logger
from processors.identity.cli_common import (
    _checked_reason,
    _publish,
    _settings_or_exit,
    current_customers,
    read_owners_and_customer_events,
)


def merge_command(
    customer: str = typer.Argument(..., help="Customer id (one merged already is followed to the one it is now)."),
    other: str = typer.Argument(..., help="The other customer id: the same person."),
    by: str = typer.Option(..., "--by", help="Who merges (recorded in the CustomerMerged announcement)."),
    reason: str = typer.Option(..., help="Why (recorded in the CustomerMerged announcement)."),
) -> None:
    """Merge two customers that are one person: undo a split, or join two records the matcher kept apart (a
    refused, rejected or missed match). Refused for an unknown customer, two ids of one customer, and two customers
    with two national IDs (or another type limited to one per person). The larger of the two ids is merged into the
    smaller; `identity unmerge LARGER_ID` gives it back as it was (its identifiers, and what came through them)."""
    from processors.identity.merge import MergeRefused, merge_plan, merge_send
    from processors.identity.rules import LinkPolicy

    operator, why = operator_id("--by", by), _checked_reason(reason)
    settings, identity = _settings_or_exit()
    owners, survivors, current = asyncio.run(_owners_survivors_and_current(settings))
    try:
        first, second, keys = merge_plan(customer, other, owners, survivors, LinkPolicy(identity), current)
    except MergeRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    command_id = str(uuid.uuid4())
    send = merge_send(command_id, first, second, keys, operator, why)
    asyncio.run(_publish(settings, send.node, send.message))
    get_logger(__name__).info("merge requested", command_id=command_id)
    typer.echo(f"merge of {first} and {second} requested (command {command_id}); CustomerMerged (rule manual-merge) "
               f"follows on customer.events.v1. Undo: omnibus identity unmerge {max(first, second)}")


async def _owners_survivors_and_current(settings: OmnibusSettings) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """``_current_owners``, every merge so far (merged-away customer id -> survivor, ``customer.events.v1``) and the
    current customers (``cli_common.current_customers``: also those left without identifiers)."""
    from processors.verify.identity import MERGED

    owners, events = await read_owners_and_customer_events(settings)
    return owners, {event.value["merged_customer_id"]: event.value["survivor_customer_id"]
                    for event in events if event.schema == MERGED}, current_customers(owners, events)
