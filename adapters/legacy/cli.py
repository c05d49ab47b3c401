"""``omnibus adapter legacy install-outbox | relay | poll | import-batch | check-layout``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from adapters.base.checkpoint import Checkpoint
from adapters.base.cli import (
    EXIT_REJECTED_LINES,
    REJECTED_OK_HELP,
    exit_interrupted,
    exit_when_topics_vanished,
    load_or_exit,
    rejected_exit_code,
    stop_on_signals,
)
from adapters.base.import_target import (
    EARLIER_HELP,
    Earlier,
    EarlierStateError,
    current_target,
    target_state_dir,
    with_target_dedupe,
)
from adapters.base.runtime import adapter_component, adapter_runtime, published_topics
from adapters.legacy.batch_report import NO_HEADER_LINE
from adapters.legacy.config import ENV_PREFIX, LegacySettings, deployment_currency
from adapters.legacy.errors import LayoutError, NoHeaderLine, Unavailable
from adapters.legacy.ingress_batch import BatchImporter, BatchReport, has_batch_state
from adapters.legacy.ingress_outbox import OutboxRelay, install_outbox, outbox_ddl
from adapters.legacy.ingress_poller import TablePoller
from adapters.legacy.layout import Layout, load_layout
from adapters.legacy.layout_check import DEFAULT_LINES, check_lines, unpublished_error
from adapters.legacy.mapper import COMPONENT, LegacyContext
from adapters.legacy.snapshot import ALLOW_MASS_CLOSE, CloseLimit
from adapters.legacy.token_fields import without_token_key
from bus import topic_watch
from bus.bootstrap import bad_settings_exit, exit_with_message
from bus.config import OmnibusSettings, load_component_settings
from bus.heartbeat import Heartbeat
from bus.plural import counted
from bus.publish_retry import outage_retry
from bus.topics import BUSINESS_EVENTS, HANDOFF_EVENTS, IDENTIFIERS_OBSERVED

PUBLISHES = (BUSINESS_EVENTS, IDENTIFIERS_OBSERVED, HANDOFF_EVENTS)  # what ``context`` maps records to
app = typer.Typer(no_args_is_help=True, help="Legacy business systems: outbox relay, table pollers, batch files.")


def context(settings: OmnibusSettings, adapter: LegacySettings, phone_region: str | None = None,
            layout: Layout | None = None) -> LegacyContext:
    """Mapping context of this system; ``phone_region`` of a poller or layout overrides the adapter's; a ``layout``'s
    own card or order status words are read before the built-in ones."""
    return LegacyContext(
        adapter.source_system, BUSINESS_EVENTS.name(settings.topics),
        deployment_currency(adapter, settings.identifiers.default_region),
        identity_topic=IDENTIFIERS_OBSERVED.name(settings.topics), phone_region=phone_region or adapter.phone_region,
        identifiers=settings.identifiers, future_tolerance_s=adapter.future_tolerance_s,
        handoff_topic=HANDOFF_EVENTS.name(settings.topics), reference_fields=adapter.reference_fields,
        status_words=layout.status_words if layout else {},
    )


def declared_references(settings: OmnibusSettings, adapter: LegacySettings) -> tuple[str, ...]:
    """The business references this adapter's records may carry (its ``reference_fields`` and the deployment's):
    the names a layout may map columns to (``layout.load_layout``)."""
    return (*adapter.reference_fields, *settings.identifiers.reference_fields)


def _settings(**overrides: Any) -> tuple[OmnibusSettings, LegacySettings]:
    """Core and adapter settings; exits 2 with one line when the amounts' default currency cannot be told
    (``config.deployment_currency``), before any path (outbox relay, pollers, batch files) reads an amount."""
    settings, adapter = load_or_exit(LegacySettings, ENV_PREFIX, name=COMPONENT, **overrides)
    with bad_settings_exit():
        deployment_currency(adapter, settings.identifiers.default_region)
    return settings, adapter


@app.command("install-outbox")
def install_outbox_command(
    print_only: bool = typer.Option(False, "--print", help="Print the DDL instead of running it."),
) -> None:
    """Create the outbox table, its commit-order trigger and index (safe to run again)."""
    if print_only:
        table = load_component_settings(LegacySettings, ENV_PREFIX).outbox.table
        typer.echo(outbox_ddl(table))
        return
    _, adapter = load_or_exit(LegacySettings, ENV_PREFIX, name=COMPONENT)  # reads no amount: the currency is not needed
    asyncio.run(install_outbox(adapter.dsn(), adapter.outbox.table))
    typer.echo(f"outbox {adapter.outbox.table} installed")


@app.command("relay")
def relay_command() -> None:
    """Publish outbox rows in commit order until SIGTERM (one active relay per table; others stand by)."""
    settings, adapter = _settings()

    async def main() -> None:
        heartbeat = Heartbeat(adapter_component(COMPONENT), adapter.outbox.live_within_s)
        # serves /metrics and /live
        async with adapter_runtime(COMPONENT, settings, adapter, heartbeat, publishes=PUBLISHES) as runtime:
            relay = OutboxRelay(adapter.dsn(), adapter.outbox, context(settings, adapter), runtime.publisher,
                                retry_after_s=adapter.retry_after_s, heartbeat=heartbeat)
            await relay.run(stop_on_signals())

    topic_watch.enable_exit()
    asyncio.run(main())
    exit_when_topics_vanished("legacy relay")


@app.command("poll")
def poll_command() -> None:
    """Run every configured table poller until SIGTERM."""
    settings, adapter = _settings()
    if not adapter.pollers:
        raise typer.BadParameter("no pollers configured (OMNIBUS_ADAPTER_LEGACY__POLLERS)")

    async def main() -> None:
        async with adapter_runtime(COMPONENT, settings, adapter, publishes=PUBLISHES) as runtime:
            stop = stop_on_signals()  # once started; before, SIGTERM stops the start (``bus.early_stop``)
            pollers = [
                TablePoller(spec, context(settings, adapter, spec.phone_region), runtime.publisher,
                            Checkpoint(adapter.state_dir / "pollers" / f"{spec.name}.json"),
                            retry_after_s=adapter.retry_after_s)
                for spec in adapter.pollers
            ]
            await asyncio.gather(*(poller.run(adapter.dsn(), stop) for poller in pollers))

    topic_watch.enable_exit()
    asyncio.run(main())
    exit_when_topics_vanished("legacy pollers")


@app.command("import-batch")
def import_batch_command(
    layout_path: Path = typer.Option(..., "--layout", exists=True, dir_okay=False, help="YAML/JSON layout file."),
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="Export files to import."),
    state_dir: Path = typer.Option(
        None, file_okay=False, help=f"Overrides {ENV_PREFIX}STATE_DIR: the checkpoints and dedupe file that make "
        "a re-import to the same Kafka cluster and topic prefix publish nothing new, one folder per cluster and prefix "
        "under targets/ (default ~/.local/state/omnibus/legacy, or $XDG_STATE_HOME/omnibus/legacy).",
    ),
    rejected_ok: bool = typer.Option(False, "--rejected-ok", help=REJECTED_OK_HELP),
    earlier: Earlier | None = typer.Option(None, "--earlier-imports", help=EARLIER_HELP),
    allow_mass_close: bool = typer.Option(
        False, ALLOW_MASS_CLOSE, help=f"Close what a full snapshot no longer lists even beyond {ENV_PREFIX}"
        "SNAPSHOT_MAX_CLOSE_SHARE / _FLOOR, or when it is empty (checked by hand: not a truncated export).",
    ),
) -> None:
    """Import export files; an interrupted import resumes, a file imported twice to the same Kafka cluster and topic
    prefix publishes nothing new there (the memory is per cluster and prefix: docs/legacy-batch.md).
    Exit codes: 0 every line published (or a duplicate); 3 (``EXIT_REJECTED_LINES``) the files were imported but lines
    of them were rejected and dead-lettered (0 with --rejected-ok, unless every line of a file was); 2 bad settings (a
    layout reading national IDs or card numbers while no OMNIBUS_IDENTIFIERS__HMAC_KEY is set: they leave only as
    tokens; nothing read) or a
    layout that is invalid or does not describe a file (one ``error:`` line), or a topic it publishes to does not exist
    (``omnibus topics apply``), found at start or while importing; 69 (``KAFKA_UNAVAILABLE_EXIT``) Kafka cannot be
    reached at start, or stopped acknowledging for longer than ``OMNIBUS_PRODUCER__GIVE_UP_AFTER_S`` (the import waits
    and tries again until then; the summary says what was published, a re-run resumes); also 3 when a full snapshot
    closed nothing because it is empty, older than the layout's latest, or would close more accounts than
    SNAPSHOT_MAX_CLOSE_SHARE / _FLOOR allow (--allow-mass-close imports it; --rejected-ok does not waive it), and for a
    file without its header line (empty: a failed export; nothing imported). The summary also counts what published
    lines lost (identifiers, traits) and card or order status words no list knows (published as
    UNKNOWN). Layouts (times in a local ``timezone``, amounts in a ``number_locale`` such as pt_BR, a card or order
    system's ``status_words``): docs/legacy-batch.md and docs/examples/layouts."""
    settings, adapter = _settings(state_dir=state_dir)
    try:
        layout = load_layout(layout_path, declared_references(settings, adapter))
    except LayoutError as exc:  # one line naming the layout and what is wrong, before anything is published
        exit_with_message(exc)
    _exit_without_token_key(layout_path, layout, settings, adapter)

    async def main() -> list[BatchReport]:
        reports = []
        target = await current_target(settings, published_topics(settings, PUBLISHES))  # before any state
        try:
            states = target_state_dir(adapter.state_dir, target, has_earlier=has_batch_state(adapter.state_dir),
                                      earlier=earlier)
        except EarlierStateError as exc:  # before anything is published
            exit_with_message(exc)
        importing = with_target_dedupe(adapter, states, adapter.state_dir)
        async with adapter_runtime(COMPONENT, settings, importing, metrics=False, importing=True,
                                   publishes=PUBLISHES) as runtime:
            importer = BatchImporter(  # one-shot: no endpoint; waits through a broker outage
                context(settings, adapter, layout.phone_region, layout), runtime.publisher, states,
                chunk_lines=adapter.batch_chunk_lines, retry=outage_retry(settings), target=target,
                close_limit=CloseLimit(adapter.snapshot_max_close_share, adapter.snapshot_max_close_floor,
                                       waived=allow_mass_close),
            )
            for path in files:
                try:
                    report = await importer.import_file(path, layout)
                except LayoutError as exc:  # leaving the runtime flushes what earlier files published
                    exit_with_message(f"layout {layout_path} does not describe {path}: {exc}")
                except Unavailable as exc:
                    exit_interrupted(path.name, importer.report, exc, settings.producer.give_up_after_s)
                reports.append(report)
                typer.echo(report.summary(path.name))
        return reports

    reports = asyncio.run(main())
    code = import_exit_code(reports, rejected_ok=rejected_ok)
    if code:
        for reason in exit_reasons(reports, rejected_ok=rejected_ok):
            typer.echo(f"error: {reason}: exit {code}", err=True)
        raise typer.Exit(code)


@app.command("check-layout")
def check_layout_command(
    layout_path: Path = typer.Option(..., "--layout", exists=True, dir_okay=False, help="YAML/JSON layout file."),
    files: list[Path] = typer.Argument(None, exists=True, dir_okay=False, help="Sample export files to read."),
    lines: int = typer.Option(DEFAULT_LINES, "--lines", min=1, help="Data lines of each file to read."),
) -> None:
    """Check a layout against its event, and optionally the first lines of sample files, publishing nothing (no
    Kafka needed). Exit codes: 0 the layout is valid and every line read would be published with what it reads; 3
    (``EXIT_REJECTED_LINES``) something read would not reach Kafka as the layout means it: lines would be rejected
    (each printed with its reason, e.g. a local time the clocks skipped, an amount that reads two ways such as 1.500:
    declare the layout's ``number_locale``), an identifier type would be dropped from every line that holds one (a
    national ID while no scheme is set: OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES; a column that holds something
    else), or a sample file of a layout with a header has none (zero bytes, or a blank first line: a failed export, of
    which ``import-batch`` imports nothing and exits 3 too; nothing of it checked: give a complete export); 2 the
    layout is invalid or does not describe a file, or it reads national IDs or card numbers while no
    OMNIBUS_IDENTIFIERS__HMAC_KEY is set (one ``error:`` line). Each file's count also gives what the lines would lose
    (identifiers, traits) and the card or order status words no list knows (published as UNKNOWN: map them with the
    status field's ``status_words``). Layouts: docs/legacy-batch.md and docs/examples/layouts."""
    settings, adapter = _settings()
    try:
        layout = load_layout(layout_path, declared_references(settings, adapter))
    except LayoutError as exc:
        exit_with_message(exc)
    zone = f", times without a zone in {layout.timezone}" if layout.timezone else ""
    typer.echo(f"layout {layout_path}: valid ({layout.event}, {counted(len(layout.fields), 'field')}{zone})")
    _exit_without_token_key(layout_path, layout, settings, adapter)
    ctx, rejected, no_header = context(settings, adapter, layout.phone_region, layout), False, False
    checks = []
    for path in files or []:
        try:
            check = check_lines(path, layout, ctx, lines)
        except NoHeaderLine:  # a failed export, not a layout that is wrong: the other files are still checked
            typer.echo(f"{path.name}: {NO_HEADER_LINE}: nothing checked")
            no_header = True
            continue
        except LayoutError as exc:
            exit_with_message(f"layout {layout_path} does not describe {path}: {exc}")
        for number, reason in check.rejected.items():
            typer.echo(f"{path.name} line {number}: {reason}")
        typer.echo(check.summary(path.name))
        rejected = rejected or bool(check.rejected)
        checks.append(check)
    if no_header:
        typer.echo(f"error: a sample file has no header line: the layout was not checked against it; give a sample "
                   f"of a complete export (import-batch imports nothing of such a file): exit {EXIT_REJECTED_LINES}",
                   err=True)
    unpublished = unpublished_error(checks)
    if unpublished:
        typer.echo(f"error: {unpublished}: exit {EXIT_REJECTED_LINES}", err=True)
    if rejected or no_header or unpublished:
        raise typer.Exit(EXIT_REJECTED_LINES)


def _exit_without_token_key(path: Path, layout: Layout, settings: OmnibusSettings, adapter: LegacySettings) -> None:
    """Exit 2 (bad settings) with one ``error:`` line when ``layout`` reads national IDs or card numbers and no HMAC
    key is set (``token_fields.without_token_key``): said once, before a line is read, not as a dropped ID or a
    rejection per line."""
    error = without_token_key(layout.fields, context(settings, adapter, layout.phone_region, layout).normaliser)
    if error is not None:
        exit_with_message(f"layout {path}: {error}")


def import_exit_code(reports: list[BatchReport], *, rejected_ok: bool = False) -> int:
    """The exit code of an ``import-batch`` run: ``EXIT_REJECTED_LINES`` when a line of its files was rejected in this
    run, unless ``rejected_ok``, or a snapshot was empty, older than the latest or would close more than its limit
    (``GoneTally.needs_a_look``), or a file had no header line or every line of it was rejected (``not_remembered``: a
    changed export format publishes nothing), whatever ``rejected_ok`` says (a job that tolerates a few bad lines every
    night must still see a night whose closures were held back: ``--allow-mass-close`` is that waiver); else 0 (a
    nightly scheduler saw success with rejected lines, with an empty export, and with a truncated one
    that closed the whole base)."""
    if any(report.gone.needs_a_look or report.no_header or report.not_remembered for report in reports):
        return EXIT_REJECTED_LINES  # --rejected-ok does not waive a night of which nothing was imported
    return rejected_exit_code(any(report.rejected for report in reports), rejected_ok=rejected_ok)


def exit_reasons(reports: list[BatchReport], *, rejected_ok: bool = False) -> list[str]:
    """The ``error:`` lines of a run that exits ``EXIT_REJECTED_LINES``: one per kind of trouble, each saying which
    it is (a mail that keeps only stderr knows what to check), counts in the files' summary lines. Only rejected
    lines are waived by ``--rejected-ok``: with ``rejected_ok`` they are no reason, and not named as one (a run that
    exits 3 for a held-back snapshot said ``--rejected-ok: exit 0`` beside it)."""
    reasons = []
    if not rejected_ok and any(report.rejected and not report.not_remembered for report in reports):
        reasons.append("lines were rejected (dead-lettered on deadletter.v1 with their file and line number; "
                       "--rejected-ok: exit 0)")
    if any(report.not_remembered for report in reports):
        reasons.append("every line of an export file was rejected, nothing of it published (a changed export format?): "
                       "it is not remembered as imported; fix the layout or the export, then import it again "
                       "(--rejected-ok does not waive it)")
    if any(report.no_header for report in reports):
        reasons.append("an export file has no header line (it is empty, or its first line is blank: a failed export): "
                       "nothing of it imported; check the export, then import it again (--rejected-ok does not "
                       "waive it)")
    if any(report.gone.empty for report in reports):
        reasons.append("a full snapshot is empty (a header and no line, after snapshots that listed accounts): "
                       f"nothing closed; check the export, then import it again ({ALLOW_MASS_CLOSE} closes every "
                       "account; --rejected-ok does not waive it)")
    if any(report.gone.would_close for report in reports):
        reasons.append("a full snapshot would close more accounts than "
                       f"{ENV_PREFIX}SNAPSHOT_MAX_CLOSE_SHARE / _FLOOR allow (its summary line counts them): nothing "
                       f"closed; check the export (a truncated file?), then import it again with {ALLOW_MASS_CLOSE} "
                       "(--rejected-ok does not waive it)")
    if any(report.gone.older_than is not None for report in reports):
        reasons.append("a full snapshot older than its layout's latest was not imported: import the newest export "
                       "(--rejected-ok does not waive it)")
    return reasons
