"""``omnibus handoffs acknowledge|accept|transfer|hold|resume|resolve|close|reopen|escalate HANDOFF_ID --by
PERSON`` and ``omnibus handoffs show HANDOFF_ID``: a back office works a handoff without writing Avro.

Each command reads ``handoff.events.v1`` (as ``reconcile`` does) to find the handoff, publishes one lifecycle
event (``commands.build``) keyed by the handoff id, and prints its event id. The ``--reason`` text is scrubbed of
identifier values first, as every channel's free text is, and a ``note:`` line on stderr says what was masked
(``bus.cli.operator_text``); the text of ``hold`` and ``resolve``, quoted to the customer, is refused instead when
the scrubber would alter it, unless ``--send-masked`` (``CUSTOMER_QUOTED``). Exit 0: published (the tracker
then applies it, or dead-letters it with the reason when the transition is illegal; ``show`` prints the
outcome); 2: refused before publishing (unknown handoff, missing option, closed handoff, a transfer to a team the
policy does not name without ``--allow-unknown-team``, a customer-quoted text the scrubber would alter), one
``error:`` line; 69: Kafka unreachable
(``omnibus.cli.main``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import typer

from bus.bootstrap import bad_settings_exit, core_settings
from bus.cli.operator_text import customer_text_refusal, masked_note, operator_id
from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing
from bus.replay import replay_topic
from bus.serde import build_serde
from bus.topics import HANDOFF_EVENTS
from processors.handoffs.commands import (
    CUSTOMER_QUOTED,
    CommandRefused,
    HandoffView,
    Request,
    build,
    current_views,
    refusal,
    scrubbed,
)
from processors.handoffs.config import ENV_PREFIX, load_handoffs_settings, load_policy
from processors.handoffs.outputs import short_name
from schemas.enums import CLOSE_REASONS

BY_HELP = "Who does it (an employee id; recorded on the event and counted in the month-end report)."
SEND_MASKED = "--send-masked"
SEND_MASKED_HELP = ("Send the text with what the scrubber masks (a card number, a date, 7 digits or more, an e-mail "
                    "address) replaced by [digits], [date ...], [email]; without it such a text is refused.")
SHOW_HINT = "see the outcome with `omnibus handoffs show {id}`; a refusal is on deadletter.v1"


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _view(settings: OmnibusSettings, handoff_id: str) -> HandoffView:
    views = current_views(asyncio.run(replay_topic(settings, HANDOFF_EVENTS)).events)
    if handoff_id not in views:
        _fail(f"no handoff {handoff_id} on {HANDOFF_EVENTS.name(settings.topics)} (no HandoffCreated with this id)")
    return views[handoff_id]


def _settings(bootstrap_servers: str | None) -> OmnibusSettings:
    with bad_settings_exit():
        return core_settings(bootstrap_servers)


def unknown_team_guard(team: str | None, policy_file: Path | None, allow: bool) -> Callable[[HandoffView], None]:
    """The transfer's check that ``team`` is one the handoff policy names (``HandoffPolicy.destinations``):
    refused (exit 2) unless ``allow``, then a ``warning:`` line on stderr. A typo in a team name would
    otherwise park the case in a queue nobody works; the tracker accepts it (``HandoffPolicy.team`` says why)."""
    with bad_settings_exit():
        path = load_handoffs_settings(**({"policy_file": policy_file} if policy_file else {})).policy_file
        policy = load_policy(path)
    source = f"policy {path}" if path else f"built-in default policy ({ENV_PREFIX}POLICY_FILE is not set)"

    def check(view: HandoffView) -> None:
        if team is None or team == view.team or policy.knows_destination(team):
            return
        problem = (f"team {team!r} is not in the handoff {source}; known: {', '.join(sorted(policy.destinations))}")
        if not allow:
            _fail(f"{problem}. Pass --allow-unknown-team to transfer there anyway (the tracker then gives it the "
                  "default team's calendar and escalation chain).")
        typer.echo(f"warning: {problem}; transferring anyway (--allow-unknown-team): the tracker gives it the "
                   "default team's calendar and escalation chain", err=True)

    return check


def run(action: str, handoff_id: str, request: Request, bootstrap_servers: str | None = None,
        check: Callable[[HandoffView], None] | None = None, *, send_masked: bool = False) -> None:
    """Publish ``action`` on ``handoff_id`` (the commands' shared body), after ``check`` of the handoff as last
    announced (it may refuse with ``_fail``); exits as the module doc says. A text the customer is quoted
    (``CUSTOMER_QUOTED``) that the scrubber would alter is refused unless ``send_masked``."""
    request = replace(request, by=operator_id("--by", request.by),  # never an e-mail login
                      owner=request.owner and operator_id("--owner", request.owner))
    if action in CUSTOMER_QUOTED and not send_masked:
        quoted, masked = scrubbed(request)
        if masked:
            _fail(customer_text_refusal("--reason", quoted.reason or "", masked, SEND_MASKED))
    settings = _settings(bootstrap_servers)
    view = _view(settings, handoff_id)
    reason = refusal(action, view)
    if reason:
        _fail(reason)
    if check is not None:
        check(view)
    request, masked = scrubbed(request)
    try:
        event = build(action, view, request, datetime.now(UTC))
    except CommandRefused as exc:
        _fail(f"{handoff_id}: {exc}")
    note = masked_note("--reason", masked)
    if note:
        typer.echo(note, err=True)

    async def publish() -> None:
        serializer, _ = build_serde(settings.registry)
        async with EventProducer(settings, serializer) as producer:
            await producer.publish(Outgoing(HANDOFF_EVENTS.name(settings.topics), handoff_id, event))

    asyncio.run(publish())
    typer.echo(f"{short_name(event.schema)} {handoff_id} by {request.by} published (event "
               f"{event.value['envelope']['event_id']}); the tracker decides: {SHOW_HINT.format(id=handoff_id)}")


def register(app: typer.Typer) -> None:
    """Adds the commands to ``omnibus handoffs``."""
    servers = typer.Option(None, "--bootstrap-servers", help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS.")
    handoff = typer.Argument(..., help="The handoff id (HandoffCreated.handoff_id).")
    by = typer.Option(..., "--by", help=BY_HELP)

    @app.command("show")
    def show(handoff_id: str = handoff, as_json: bool = typer.Option(False, "--json"),
             bootstrap_servers: str = servers) -> None:
        """The handoff's status, team, owner, version and deadline as the tracker last announced them, with its
        escalation tier, the deadlines it missed, the contact's time (and when it was received, if later), when and
        by whom the back office acknowledged it (or not yet), case type, summary (a correction's once the tracker
        applied it), service tier, customer and source record; times in ISO 8601, UTC, to the second."""
        view = _view(_settings(bootstrap_servers), handoff_id)
        if as_json:
            typer.echo(json.dumps(view.to_json()))
        else:
            for line in view.lines():
                typer.echo(line)

    @app.command("acknowledge")
    def acknowledge(handoff_id: str = handoff, by: str = by,
                    system: str = typer.Option(None, help="Receiving system (default: the one it was routed to)."),
                    reference: str = typer.Option(None, help="Id of the case in the receiving system."),
                    bootstrap_servers: str = servers) -> None:
        """The receiving back office has the handoff (stops the unacknowledged alarms)."""
        run("acknowledge", handoff_id, Request(by, system=system, reference=reference), bootstrap_servers)

    @app.command("accept")
    def accept(handoff_id: str = handoff, by: str = by,
               team: str = typer.Option(None, help="Team accepting (default: the handoff's team)."),
               owner: str = typer.Option(None, help="Owner (default: --by)."),
               bootstrap_servers: str = servers) -> None:
        """Take ownership (one owner at a time; pass it on with transfer)."""
        run("accept", handoff_id, Request(by, team=team, owner=owner), bootstrap_servers)

    @app.command("transfer")
    def transfer(handoff_id: str = handoff, by: str = by,
                 team: str = typer.Option(None, "--team", "--to",
                                          help="Team after the transfer (default: the same); one the policy names."),
                 owner: str = typer.Option(None, "--owner", help="Owner after it (default: none, the team queue)."),
                 reason: str = typer.Option(..., help="Why it is passed on."),
                 allow_unknown_team: bool = typer.Option(
                     False, "--allow-unknown-team",
                     help="Transfer to a team the handoff policy does not name (warned, not refused)."),
                 policy_file: Path = typer.Option(None, help=f"Overrides {ENV_PREFIX}POLICY_FILE (its teams)."),
                 bootstrap_servers: str = servers) -> None:
        """Pass the handoff to another team or person (counted as a bounce)."""
        guard = unknown_team_guard(team, policy_file, allow_unknown_team)
        run("transfer", handoff_id, Request(by, team=team, owner=owner, reason=reason), bootstrap_servers, guard)

    @app.command("hold")
    def hold(handoff_id: str = handoff, by: str = by,
             reason: str = typer.Option(None, help="What is asked of the customer, as the customer is told it (their "
                                        "notification quotes it)."),
             send_masked: bool = typer.Option(False, SEND_MASKED, help=SEND_MASKED_HELP),
             bootstrap_servers: str = servers) -> None:
        """Waiting on the customer: the resolution clock stops."""
        run("hold", handoff_id, Request(by, reason=reason), bootstrap_servers, send_masked=send_masked)

    @app.command("resume")
    def resume(handoff_id: str = handoff, by: str = by, bootstrap_servers: str = servers) -> None:
        """The customer answered: the clock runs again, the deadline moved by the pause."""
        run("resume", handoff_id, Request(by), bootstrap_servers)

    @app.command("resolve")
    def resolve(handoff_id: str = handoff, by: str = by,
                reason: str = typer.Option(..., help="What was done, in words the customer can be told."),
                code: str = typer.Option(None, help="Structured resolution code."),
                team: str = typer.Option(None, help="Team that resolved it (default: the handoff's team)."),
                send_masked: bool = typer.Option(False, SEND_MASKED, help=SEND_MASKED_HELP),
                bootstrap_servers: str = servers) -> None:
        """The case is solved (counted for --by in the month-end report)."""
        run("resolve", handoff_id, Request(by, reason=reason, code=code, team=team), bootstrap_servers,
            send_masked=send_masked)

    @app.command("close")
    def close(handoff_id: str = handoff, by: str = by,
              reason: str = typer.Option("CONFIRMED", "--reason", help=f"One of {', '.join(sorted(CLOSE_REASONS))}: "
                                         "CONFIRMED closes a resolved handoff; the others an open one."),
              bootstrap_servers: str = servers) -> None:
        """Close the handoff."""
        if reason.upper() not in CLOSE_REASONS:
            _fail(f"--reason must be one of {', '.join(sorted(CLOSE_REASONS))}")
        run("close", handoff_id, Request(by, close_reason=reason.upper()), bootstrap_servers)

    @app.command("reopen")
    def reopen(handoff_id: str = handoff, by: str = by, reason: str = typer.Option(..., help="Why."),
               bootstrap_servers: str = servers) -> None:
        """Reopen a resolved or closed handoff (new cycle, new deadline)."""
        run("reopen", handoff_id, Request(by, reason=reason), bootstrap_servers)

    @app.command("escalate")
    def escalate(handoff_id: str = handoff, by: str = by, bootstrap_servers: str = servers) -> None:
        """Escalate by hand to the next tier of the handoff's escalation chain."""
        run("escalate", handoff_id, Request(by), bootstrap_servers)
