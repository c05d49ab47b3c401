"""``omnibus identity unmerge CUSTOMER --by NAME --reason TEXT``: give back a customer a merge ended.

Registered on ``processors.identity.cli.app``; the rule is ``processors.identity.unmerge``. The command reads
``customer.identifiers.v1`` and ``customer.events.v1``, then sends one ``SplitCustomer`` to the customer that holds
what the merge brought, as ``omnibus identity split`` does.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import typer

from bus.cli.operator_text import operator_id
from bus.logging import get_logger
from processors.identity.cli_common import read_owners_and_customer_events


def unmerge_command(
    customer: str = typer.Argument(..., help="The customer id the merge ended (CustomerMerged's merged_customer_id; "
                                   "of `identity merge A B`, the larger of the two ids)."),
    by: str = typer.Option(..., "--by", help="Who undoes it (recorded in the CustomerSplit announcement)."),
    reason: str = typer.Option(..., help="Why (recorded in the CustomerSplit announcement)."),
) -> None:
    """Undo a merge (an operator's `identity merge` or the matcher's): the identifiers the merged-away customer
    brought, still held by the one it was merged into, move together to one new customer, with the contacts, names
    and products that came through them alone; the two are kept apart for good. Prints what moves and what stays.
    Refused (exit 2, one line) when no merge ended CUSTOMER, when what it brought is no longer there (undone
    already), or when nothing else would stay."""
    from processors.identity.cli_common import (
        _checked_reason,
        _publish,
        _settings_or_exit,
    )
    from processors.identity.graph.messages.commands import SplitCustomer
    from processors.identity.unmerge import UnmergeRefused, merge_records, split_lines, unmerge_plan

    operator, why = operator_id("--by", by), _checked_reason(reason)
    settings, _ = _settings_or_exit()
    owners, events = asyncio.run(read_owners_and_customer_events(settings))
    merges = merge_records(events)
    try:
        plan = unmerge_plan(customer, merges, owners)
    except UnmergeRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    assert plan.merge is not None
    command_id = str(uuid.uuid4())
    recorded = f"undoes the merge of {plan.merge.describe()}: {why}"
    message = SplitCustomer(list(plan.moving), recorded, command_id, int(time.time() * 1e6), operator=operator)
    asyncio.run(_publish(settings, plan.source, message))
    get_logger(__name__).info("unmerge requested", command_id=command_id, moved=len(plan.moving))
    typer.echo(f"unmerge of {plan.merge.describe()} requested (command {command_id}); CustomerSplit follows on "
               f"customer.events.v1, its new_customer_id the customer given back (a new id: {customer} stays merged "
               f"away and keeps answering with {plan.source})")
    for line in split_lines(plan, merges):
        typer.echo(line)

