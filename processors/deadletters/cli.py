"""``omnibus deadletters list | show | redrive | open-case``: look into the dead letters, put them back on their topics,
or open by hand the case one asked for.

``list`` prints one row per dead letter (id, when, component, error type, reason, source, size); ``show ID``
prints one with its original decoded (identifier values masked unless ``--reveal``); ``redrive`` puts the selected
ones back on their source topics, once (``processors.deadletters.redrive``), or with ``--new-id`` publishes web
messages refused only for their id (by the web hall or, as ``duplicate_creation``, by the handoff tracker) under a
derived one (``processors.deadletters.new_id``), and re-submits a body an adapter's HTTP ingress refused from its
sealed copy, corrected by ``--set`` (``processors.deadletters.sealed``), as it does a row the legacy adapter's
outbox relay or a poller refused. The three read the
dead-letter topic with no consumer group. Exit status: 0; 1 when ``show`` finds no such id, or ``redrive`` refused
some of the selection (the others are re-driven); 2 on a usage error.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import msgspec
import typer
from rich.text import Text

from bus.cli.json_lines import JSON_LINES_HELP, echo_json_lines
from bus.cli.operator_text import operator_id, operator_text
from bus.cli.tables import report_console, report_table
from bus.clock import read_instant
from bus.config import OmnibusSettings, load_settings
from bus.logging import get_logger
from bus.plural import counted
from processors.deadletters import (
    RESUBMITTED_KINDS,
    DeadLetter,
    deserializer_for,
    original,
    read_dead_letters,
    select,
)
from processors.deadletters.new_id import Operator, redrive_new_id
from processors.deadletters.redrive import Outcome, handled_before, redrive
from processors.deadletters.sealed import parse_corrections, redrive_sealed, revealed, sealed_body

app = typer.Typer(no_args_is_help=True, help="Dead letters: list them, show one decoded, re-drive them to their topic.")
console = report_console()
log = get_logger(__name__)
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

BOOTSTRAP = typer.Option(None, "--bootstrap-servers", help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS.")
REASON = typer.Option(None, "--reason", help="Only those whose reason contains this text (any case).")
ERROR_TYPE = typer.Option(None, "--error-type", help="Only those whose error type contains this text, e.g. too_large.")
SOURCE_TOPIC = typer.Option(None, "--source-topic",
                            help="Only those read from this topic (with or without the prefix); http: refused at HTTP; "
                                 "file: a line refused by a file import; outbox, poller: a row the legacy "
                                 "adapter's outbox relay or a poller refused.")
COMPONENT = typer.Option(None, "--component", help="Only those of this adapter or processor, e.g. adapter.web.")
SEALED_REDRIVE = "a re-drive of a body refused at HTTP ingress or of a legacy outbox or polled row"
SINCE = typer.Option(None, "--since", help="Only those that failed since: an ISO time (UTC if no zone) or 30m, 2h, 7d.")


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """``--since``: ``30m``/``2h``/``7d`` before ``now``, or an ISO 8601 time (UTC when it names no zone).
    Raises ``typer.BadParameter``."""
    if not text:
        return None
    found = _DURATION.match(text.strip())
    if found:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    try:
        return read_instant(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither an ISO time nor a duration such as 30m, 2h, 7d") from None


def _settings(bootstrap_servers: str | None) -> OmnibusSettings:
    settings = load_settings()
    if bootstrap_servers:
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})})
    return settings


def _selected(settings: OmnibusSettings, ids: list[str], reason: str | None, error_type: str | None,
              source_topic: str | None, component: str | None, since: str | None) -> list[DeadLetter]:
    letters = asyncio.run(read_dead_letters(settings))
    return select(letters, ids=ids, reason=reason, error_type=error_type, source_topic=source_topic,
                  component=component, since=parse_since(since))


@app.command("list")
def list_command(
    reason: str = REASON, error_type: str = ERROR_TYPE, source_topic: str = SOURCE_TOPIC, component: str = COMPONENT,
    since: str = SINCE,
    as_json: bool = typer.Option(False, "--json", help=JSON_LINES_HELP),
    bootstrap_servers: str = BOOTSTRAP,
) -> None:
    """List dead letters, oldest first: id, when it failed, component, error type, reason, where the record came
    from (topic/partition/offset, file and line, or http), the original's size in bytes (``+`` when only its first
    bytes are kept).
    No original bytes are shown: ``show ID`` decodes one."""
    letters = _selected(_settings(bootstrap_servers), [], reason, error_type, source_topic, component, since)
    if as_json:
        echo_json_lines(letter.summary() for letter in letters)
        return
    table = report_table("id", "failed at", "component", "error type", "reason", "source", "size",
                         narrow=("id", "failed at", "error type", "source"), whole=("id",), console=console)
    for letter in letters:
        row = letter.summary()
        size = "-" if row["size"] is None else f"{row['size']}{'+' if row['truncated'] else ''}"
        # Text, not markup: a reason's "[digits]" (scrubbed) or a file name in brackets is shown, not read as a style.
        table.add_row(row["id"], row["failed_at"], row["component"], row["error_type"], Text(row["reason"][:200]),
                      Text(row["source"]), size)
    console.print(table)
    console.print(counted(len(letters), "dead letter"))


@app.command("show")
def show_command(
    dead_letter_id: str = typer.Argument(..., metavar="ID", help="A dead letter's id (deadletters list)."),
    reveal: bool = typer.Option(False, "--reveal",
                                help="Show identifier values and undecodable bytes as they are (personal data: "
                                     "only where you may see them; never logged): refused input as it came, opened "
                                     "from its sealed body with OMNIBUS_DEAD_LETTERS__SEAL_KEY."),
    bootstrap_servers: str = BOOTSTRAP,
) -> None:
    """Show one dead letter with its original record decoded: Avro by the registry's schema, JSON, else hex. Identifier
    values are masked and opaque bytes hidden unless ``--reveal``, which shows refused input as it came when its
    sealed body opens here (else its clear copy, said on stderr)."""
    settings = _settings(bootstrap_servers)
    found = select(asyncio.run(read_dead_letters(settings)), ids=[dead_letter_id])
    if not found:
        typer.echo(f"error: no dead letter {dead_letter_id} on the dead-letter topic (deadletters list)", err=True)
        raise typer.Exit(1)
    letter = found[0]
    if reveal:
        key = settings.dead_letters.seal_key  # the value as it came is only sealed (bus.dead_letter_clear)
        if key is not None:
            from bus.sealing import Sealer
        letter, why = revealed(letter, None if key is None else Sealer(key.get_secret_value()))
        # Who looked at what, never the values themselves; a clear copy shown instead is no disclosure.
        if why is None:
            log.warning("dead letter shown with its identifier values", dead_letter_id=dead_letter_id)
        else:
            log.info("dead letter shown as its clear copy (identifier values masked)", dead_letter_id=dead_letter_id)
            typer.echo(f"note: {why}", err=True)
    shown = original(letter, deserializer_for(settings), reveal=reveal)
    typer.echo(msgspec.json.format(msgspec.json.encode(shown), indent=2).decode())


def _operator(by: str | None, why: str | None, what: str = "--new-id") -> Operator:
    """``--by`` and ``--why`` of ``--new-id`` or of a re-submission from a sealed body (``what``), both required,
    scrubbed as every operator's published text (``bus.cli.operator_text``); exit 2 when one is missing or empty."""
    if not by or not by.strip() or not why or not why.strip():
        typer.echo(f"error: {what} needs --by NAME and --why TEXT (recorded on each record it publishes)", err=True)
        raise typer.Exit(2)
    return Operator(operator_id("--by", by), operator_text("--why", why))


def _refused_at_http(letter: DeadLetter) -> bool:
    """Refused at an adapter's HTTP ingress, or by the legacy adapter's outbox relay or a poller: read from no topic,
    and no file's line (``processors.deadletters.sealed`` re-submits both)."""
    return letter.fields.get("source_topic") is None and letter.source_kind in RESUBMITTED_KINDS


def _not_sealed(letters: list[DeadLetter]) -> str:
    """What the selection holds instead of a sealed body or row, and how each kind is handled, for the exit-2 line."""
    kinds = []
    if any(letter.fields.get("source_topic") is None for letter in letters):  # none is at HTTP: a file's lines
        kinds.append("a line refused by a file import is corrected in the file and the file imported again "
                     "(redrive ID without them says how)")
    if any(letter.fields.get("source_topic") is not None for letter in letters):
        kinds.append("a record read from a topic goes back as it was (redrive ID without them)")
    return "; ".join(kinds) or "nothing is selected"


def _redrive_plain(ctx: typer.Context, settings: OmnibusSettings, letters: list[DeadLetter],
                   operator: Operator | None, corrections: dict[str, object], dry_run: bool) -> list[Outcome]:
    """``redrive`` without ``--new-id``: those read from a topic put back as they were; those refused at HTTP ingress
    re-submitted from their sealed bodies, corrected by ``--set`` (``processors.deadletters.sealed``), which needs
    ``operator`` (``--by``/``--why``; exit 2 without)."""
    at_http = [letter for letter in letters if _refused_at_http(letter)]
    if (operator or corrections) and not at_http:
        typer.echo(f"error: --by, --why, --set and --unset go with --new-id or with {SEALED_REDRIVE}; "
                   f"{_not_sealed(letters)}", err=True)
        raise typer.Exit(2)
    if operator is None and any(sealed_body(letter) is not None for letter in at_http):
        _operator(None, None, SEALED_REDRIVE)  # exits 2
    outcomes = {o.letter.id: o for o in asyncio.run(redrive(settings, [x for x in letters if x not in at_http],
                                                            dry_run=dry_run))}
    if at_http:
        compose = getattr(ctx.obj, "resubmits", None)  # handed in by the composition (omnibus.cli)
        resubmits = compose(settings) if compose else {}
        who = operator or Operator("", "")  # nothing sealed: each is refused, nothing is published
        outcomes.update((o.letter.id, o) for o in asyncio.run(
            redrive_sealed(settings, at_http, resubmits, who, corrections=corrections, dry_run=dry_run)))
    # a refused letter re-driven or opened by hand before: answered so, not "correct it" (tester's bulk sweep)
    return asyncio.run(handled_before(settings, [outcomes[id_] for id_ in dict.fromkeys(x.id for x in letters)]))


@app.command("redrive")
def redrive_command(
    ctx: typer.Context,
    ids: list[str] = typer.Argument(None, metavar="[ID]...", help="Dead letters' ids; or select them by the options."),
    reason: str = REASON, error_type: str = ERROR_TYPE, source_topic: str = SOURCE_TOPIC, component: str = COMPONENT,
    since: str = SINCE,
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be re-driven; send nothing."),
    new_id: bool = typer.Option(False, "--new-id",
                                help="Publish web messages refused only for their id (at HTTP ingress: "
                                     "RejectedInput.id_conflict, RejectedInput.request_id_conflict; by the handoff "
                                     "tracker: IllegalTransition:duplicate_creation of a web service request) under "
                                     "an id derived from their content; needs --by and --why."),
    by: str = typer.Option(None, "--by", help="With --new-id or a body refused at HTTP ingress: who re-drives "
                           "(recorded on each record published)."),
    why: str = typer.Option(None, "--why",
                            help="With --new-id or a body refused at HTTP ingress: why (recorded on each record "
                                 "published, scrubbed of identifier values)."),
    set_: list[str] = typer.Option(None, "--set", metavar="FIELD=VALUE",
                                   help="A body refused at HTTP ingress: set FIELD (a dotted path, e.g. "
                                        "CustomerEndpoint.Address) to VALUE (JSON, else text) before it is mapped "
                                        "again; repeat for several."),
    unset: list[str] = typer.Option(None, "--unset", metavar="FIELD",
                                    help="A body refused at HTTP ingress: take FIELD (a dotted path, e.g. "
                                         "customer.pesel, refused as unknown_field) out before it is mapped again; "
                                         "repeat for several."),
    bootstrap_servers: str = BOOTSTRAP,
) -> None:
    """Put the selected dead letters back on their source topics with their original key, value and headers, on their
    partition, plus the headers ``omnibus-redriven-from`` (dead-letter topic/partition/offset) and
    ``omnibus-dead-letter-id``. Once: one already re-driven is skipped (the processors also drop a copy by its event
    id).
    A body refused at an adapter's HTTP ingress (a CTR Firehose never sends again), or a row the legacy adapter's
    outbox relay or a poller refused, is opened from its seal (``OMNIBUS_DEAD_LETTERS__SEAL_KEY``, the adapters' key),
    corrected with ``--set FIELD=VALUE`` (and ``--unset FIELD``), mapped again by the adapter that refused it with its
    settings as they are now and published (acks=all), with ``--by NAME --why TEXT`` recorded on each record; for a
    part refused while the rest of its record was published (a handoff), that part alone.
    Refused, with why: a body refused at HTTP ingress kept without its seal (the key was not set: the sender sends
    again), lines refused by a file import (correct the line, import the file again), those whose value was not kept
    whole.
    ``--new-id --by NAME --why TEXT``: a web message refused only because its messageId or request_id named other
    content is mapped again under ``<id>:<8 hex of its content digest>`` (the same each time: twice publishes once)
    and published with the headers above plus ``omnibus-redriven-by`` and ``omnibus-redrive-reason``; so is a web
    service request the handoff tracker refused as ``duplicate_creation`` (it reached another web replica), as
    ``<request_id>:<8 hex>``."""
    if not ids and not any((reason, error_type, source_topic, component, since)):
        typer.echo("error: name dead letters by id, or select them with --reason, --error-type, --source-topic, "
                   "--component or --since", err=True)
        raise typer.Exit(2)
    operator = _operator(by, why) if new_id else _operator(by, why, SEALED_REDRIVE) if by or why else None
    try:
        corrections = parse_corrections(set_ or [], unset or [])
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if new_id and corrections:
        typer.echo("error: --set and --unset correct a body refused at HTTP ingress; --new-id re-issues a message "
                   "as it was", err=True)
        raise typer.Exit(2)
    settings = _settings(bootstrap_servers)
    letters = _selected(settings, ids or [], reason, error_type, source_topic, component, since)
    missing = sorted(set(ids or ()) - {letter.id for letter in letters})
    if new_id and operator is not None:
        compose = getattr(ctx.obj, "reissues", None)  # handed in by the composition (omnibus.cli)
        known = compose(settings) if compose else {}
        outcomes = asyncio.run(redrive_new_id(settings, letters, known, operator, dry_run=dry_run))
    else:
        outcomes = _redrive_plain(ctx, settings, letters, operator, corrections, dry_run)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
        detail = outcome.reason if outcome.action == "refused" else outcome.at
        typer.echo(f"{outcome.action:<17} {outcome.letter.id}  from {outcome.letter.source}  {detail}")
    for id_ in missing:
        typer.echo(f"{'not_found':<17} {id_}")
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing selected"
    typer.echo(f"{summary}{' (dry run: nothing sent)' if dry_run else ''}", err=True)
    if missing or counts.get("refused"):
        raise typer.Exit(1)


@app.command("open-case")
def open_case_command(
    dead_letter_id: str = typer.Argument(..., metavar="ID", help="A dead letter's id (deadletters list)."),
    kind: str = typer.Option(..., "--kind", help="The kind of case (HandoffCreated.case_type), e.g. line-repair."),
    identifier: list[str] = typer.Option(..., "--identifier", metavar="TYPE=VALUE",
                                         help="The customer's identifier, e.g. PHONE=+48221234567; repeat for "
                                              "several (never logged)."),
    by: str = typer.Option(..., "--by", help="Who opens the case (its actor, recorded on the record)."),
    why: str = typer.Option(..., "--why", help="Why (recorded on the record, scrubbed of identifier values)."),
    summary: str = typer.Option(None, "--summary", help="The problem in a few words (scrubbed of identifier "
                                "values); default: '<kind> opened by hand from dead letter <ID>'."),
    channel: str = typer.Option(None, "--channel", help="The customer's channel, when the dead letter's component "
                                "does not say it: WEB, CALL_CENTER, BRANCH, BUSINESS_SYSTEM, BACK_OFFICE."),
    site: str = typer.Option(None, "--site", help="The call-center site or branch the customer came from."),
    handoff_id: str = typer.Option(None, "--handoff-id", help="The case's id as its channel would have named it "
                                   "(e.g. call:twilio-taskrouter:<task sid>); default deadletter:<ID>."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be published; send nothing."),
    bootstrap_servers: str = BOOTSTRAP,
) -> None:
    """Open by hand the back-office case a dead letter asked for (a handoff request refused and not re-drivable):
    one HandoffCreated on handoff.events.v1 (acks=all), with --by and --why recorded on it, once per dead letter
    (``processors.deadletters.manual_case``). Exit 1 when no such dead letter, 2 on a bad option."""
    from processors.deadletters.manual_case import BadCase, ManualCase, open_case

    operator = _operator(by, why, "open-case")
    settings = _settings(bootstrap_servers)
    found = select(asyncio.run(read_dead_letters(settings)), ids=[dead_letter_id])
    if not found:
        typer.echo(f"error: no dead letter {dead_letter_id} on the dead-letter topic (deadletters list)", err=True)
        raise typer.Exit(1)
    case = ManualCase(kind, identifier, operator_text("--summary", summary) if summary else None, channel, site,
                      handoff_id)
    try:
        outcome = asyncio.run(open_case(settings, found[0], case, operator, dry_run=dry_run))
    except BadCase as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{outcome.action:<17} {outcome.letter.id}  from {outcome.letter.source}  {outcome.at}")
