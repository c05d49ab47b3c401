"""Free text an operator types into a command that publishes it (a handoff's ``--reason``, an identity decision's
``--reason``, an offer's withdrawal reason): scrubbed as every channel's free text is before it leaves the command.

A handoff summary, a call's disposition or a web property is scrubbed at the adapter (``bus.redact.free_text``,
README "Nothing lost, nothing silent"); an operator's text goes onto topics every CRM reads (``handoff.events.v1``)
and, for a resolution, into the customer's notification, so it gets the same rule: a card number, an
IBAN's or a national ID's digits, a phone number (any run of 7 digits or more) becomes ``[digits]``, an e-mail
address ``[email]``. The value of a business reference the deployment declares
(``OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS``: ``meter_point_id: 14500000000001``) is kept, as in a channel's summary.
A company's own support number or address is masked too: the scrubber cannot tell it from the
customer's, and a channel's summary masks it the same way; the channel's notification template is where it belongs.
The command prints one ``note:`` line on stderr naming what it masked, by kind and count, never the value.

Who did it (``--by``, a handoff's ``--owner``) is published as typed and counted per person in the month-end report,
so it is not scrubbed but refused when it holds what the scrubber would mask (``operator_id``): an e-mail login, a
phone number (``--by jane.doe@bank.example`` went raw onto ``handoff.events.v1``).
"""

from __future__ import annotations

from collections import Counter

import typer

from bus.plural import counted
from bus.redact import free_text_masked
from bus.references import declared


def _counted(masked: tuple[str, ...]) -> str:
    """``("date", "card number", "date")`` as ``2 dates, 1 card number``."""
    return ", ".join(counted(count, kind) for kind, count in Counter(masked).items())


def masked_note(option: str, masked: tuple[str, ...]) -> str | None:
    """The ``note:`` line for what ``free_text_masked`` masked in ``option``'s text, e.g. ``note: --reason: masked
    1 card number, 1 e-mail address before publishing``; None when nothing was masked."""
    if not masked:
        return None
    return (f"note: {option}: masked {_counted(masked)} before publishing (identifier values never travel in free "
            "text; the rest is published as typed)")


def customer_text_refusal(option: str, scrubbed: str, masked: tuple[str, ...], accept_flag: str) -> str:
    """Why a text the customer is quoted (a handoff's ``resolve`` or ``hold --reason``) is not sent as masked without
    the operator's say-so (a refund date reached the customer's SMS as ``[date dd/dd/dddd]``): what
    would be masked, by kind and count, the text the customer would read (``scrubbed``: no identifier value left), and
    the two ways on. The scrubber cannot tell a refund date from a birth date, so it masks both."""
    return (f"{option} is quoted to the customer and would reach them altered: {_counted(masked)} would be masked "
            f"(identifier values never travel in free text), so the customer would read: {scrubbed!r}. Rewrite it "
            "without them (a date in words, e.g. '4 December'; a card by its last four digits, e.g. 'the card ending "
            f"0002'), or pass {accept_flag} to send it masked")


def operator_text(option: str, text: str) -> str:
    """``text`` stripped and scrubbed (``bus.redact.free_text``), but the deployment's declared references
    (``bus.references.declared``: ``meter_point_id: 14500000000001`` is kept); what was masked is said on stderr
    (``masked_note``)."""
    scrubbed, masked = declared().text_masked(text.strip())
    note = masked_note(option, masked)
    if note:
        typer.echo(note, err=True)
    return scrubbed


# What ``free_text_masked`` found, as an operator's id is told it looks like (the value is never repeated).
_SHAPES = {"e-mail address": "an e-mail address", "number": "a phone number (7 digits or more)",
           "card number": "a card number", "date": "a date"}


def operator_id(option: str, text: str) -> str:
    """``text`` stripped: the employee id an operator gave in ``option`` (``--by``, ``--owner``). Exits 2 with one
    ``error:`` line (never the value) when it is empty, or holds an identifier value by the rule every free text is
    scrubbed by (``bus.redact.free_text_masked``: an e-mail address, a run of 7 digits or more, an identifier key):
    an id is published as typed, a scrubbed one would count ``[email]`` in the month-end report."""
    given = text.strip()
    if not given:
        typer.echo(f"error: {option} must not be empty (it is recorded with what it does)", err=True)
        raise typer.Exit(2)
    _, masked = free_text_masked(given)
    if masked:
        typer.echo(f"error: {option} looks like {_SHAPES.get(masked[0], 'an identifier')}: give the employee id (e.g. "
                   "jdoe, E12345); it is published as typed on topics every subscriber reads, where identifier values "
                   "never travel", err=True)
        raise typer.Exit(2)
    return given


__all__ = ["customer_text_refusal", "masked_note", "operator_id", "operator_text"]
