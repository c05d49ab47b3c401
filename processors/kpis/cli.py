"""``omnibus kpis run``, ``omnibus report kpis --from --to [--csv]`` and ``omnibus replay kpis``."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bus.config import OmnibusSettings, load_settings
from bus.errors import ConfigError
from bus.topics import KPI_AGGREGATES, KPI_TICKS
from processors.kpis.config import KpisSettings, load_kpis_settings
from processors.kpis.measures import KPIS, Measure
from processors.kpis.windows import to_micros
from processors.replay import Progress as ProgressCallback
from processors.replay import read_topics

app = typer.Typer(no_args_is_help=True, help="KPIs computed once from the unified stream (docs/kpis.md).")
console = Console(stderr=True)
REPORT_COLUMNS = ("granularity", "window_start", "channel", "site", "revision",
                  *(m.value for m in Measure), "open_handoffs", *(k.name for k in KPIS))


def _settings(bootstrap_servers: str | None) -> OmnibusSettings:
    settings = load_settings()
    if bootstrap_servers:
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})})
    return settings


def _kpis_settings() -> KpisSettings:
    try:
        return load_kpis_settings()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def progress_bar(what: str) -> Iterator[ProgressCallback]:
    """A rich bar with records done / total and the rate, drawn on stderr while topics are read."""
    started = time.monotonic()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rate]:>10} rec/s"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(what, total=None, rate="-")

        def update(done: int, total: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f}")

        yield update


@app.command("run")
def run_command(
    web_port: int = typer.Option(None, help="HTTP port of /kpis (overrides OMNIBUS_PROCESSOR_KPIS__WEB_PORT)."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Run a KPI worker until interrupted (several share the work by partitions)."""
    from bus.app import run_worker
    from bus.logging import configure_logging
    from bus.metrics import serve_metrics
    from processors.handoffs.clock import SystemClock
    from processors.kpis.agent import build_worker

    settings, kpis = _settings(bootstrap_servers), _kpis_settings()
    if web_port is not None:
        kpis = kpis.model_copy(update={"web_port": web_port})
    configure_logging(settings.log.level, json_output=settings.log.json_output)
    serve_metrics(settings.metrics)
    run_worker(build_worker(settings, kpis, SystemClock()).app, settings)


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO-8601 date or instant") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def report_rows(records: list, start: datetime, end: datetime, granularity: str | None) -> list[dict]:
    """The highest revision of every aggregate whose window starts in ``[start, end)``, in window order."""
    best: dict[str, dict] = {}
    for record in records:
        value = record.event.value if record.event else None
        if value is None or not (start <= value["window_start"] < end):
            continue
        if granularity and value["granularity"] != granularity.upper():
            continue
        key = record.key.decode() if record.key else ""
        if key not in best or value["revision"] >= best[key]["revision"]:
            best[key] = value
    return sorted(best.values(), key=lambda v: (v["granularity"], v["window_start"], v["channel"], v["site"] or ""))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in REPORT_COLUMNS])
    return buffer.getvalue()


def report_command(
    start: str = typer.Option(..., "--from", help="First instant (ISO-8601, UTC if no offset): windows starting here."),
    end: str = typer.Option(..., "--to", help="End instant (exclusive)."),
    granularity: str = typer.Option(None, help="HOUR or DAY (default: both)."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout instead of a table."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """The KPIs of every window in [--from, --to), read from the KPI topic (latest revision of each)."""
    settings = _settings(bootstrap_servers)
    first, last = _instant(start), _instant(end)
    with progress_bar(f"reading {KPI_AGGREGATES.name(settings.topics)}") as progress:
        replay = asyncio.run(read_topics(settings, [KPI_AGGREGATES], progress=progress))
    rows = report_rows(replay.records, first, last, granularity)
    if as_csv:
        typer.echo(to_csv(rows), nl=False)
        return
    table = Table("window", "channel", "site", "contacts", "FCR", "repeat 7d", "service level", "abandoned",
                  "handoffs in deadline", "open handoffs", "offer acceptance", title=f"KPIs {first} to {last}")
    percent = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    for row in rows:
        table.add_row(f"{row['granularity']} {row['window_start']:%Y-%m-%d %H:%M}", row["channel"], row["site"] or "-",
                      str(row["contacts"]), percent(row["first_contact_resolution"]),
                      percent(row["repeat_contact_rate_7d"]), percent(row["service_level"]),
                      percent(row["abandonment_rate"]), percent(row["handoff_deadline_compliance"]),
                      str(sum(row["open_handoffs"].values())), percent(row["offer_acceptance"]))
    Console().print(table)
    if replay.undecodable:
        typer.echo(f"{replay.undecodable} record(s) could not be decoded and were skipped", err=True)


def replay_kpis(settings: OmnibusSettings) -> bool:
    """Rebuild the KPI state from the input topics and compare it with the published aggregates."""
    from processors.kpis.agent import INPUTS
    from processors.kpis.rebuild import compare, published, rebuild

    kpis = _kpis_settings()
    with progress_bar("reading the KPI inputs") as progress:
        inputs = asyncio.run(read_topics(settings, list(INPUTS), progress=progress))
    with progress_bar("reading the published aggregates and ticks") as progress:
        outputs = asyncio.run(read_topics(settings, [KPI_AGGREGATES, KPI_TICKS], raw=[KPI_TICKS], progress=progress))
    ticks = [r for r in outputs.records if r.topic == KPI_TICKS.name(settings.topics)]
    now_us = _last_tick(ticks) or to_micros(datetime.now(UTC))
    started = time.monotonic()
    rebuilt = rebuild(inputs.records, {s.name(settings.topics): src for s, src in INPUTS.items()}, kpis, now_us)
    elapsed = time.monotonic() - started
    running = published(r for r in outputs.records if r.topic == KPI_AGGREGATES.name(settings.topics))
    result = compare(rebuilt.windows, running)
    typer.echo(f"rebuilt {len(rebuilt.windows)} window(s) from {rebuilt.applied} event(s) in {elapsed:.2f} s "
               f"({rebuilt.applied / max(elapsed, 1e-6):,.0f} events/s); running processor published {len(running)}")
    typer.echo(f"same: {result.same}, differing: {len(result.differing)}, only rebuilt: {len(result.only_rebuilt)}, "
               f"only running: {len(result.only_running)}")
    for key, mine, theirs in result.differing[:20]:
        changed = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        typer.echo(f"  {key}: " + ", ".join(f"{k} rebuilt {mine.get(k, 0)} running {theirs.get(k, 0)}" for k in changed))
    return result.equal


def _last_tick(ticks: list) -> int | None:
    from processors.handoffs.ticks import BadTick, decode_tick
    from bus.errors import RawRecord

    found = []
    for tick in ticks:
        try:
            found.append(decode_tick(RawRecord(value=tick.value, key=tick.key, headers=(), topic=tick.topic,
                                               partition=tick.partition, offset=tick.offset)))
        except BadTick:
            continue
    return max(found) if found else None


def replay_command(
    processor: str = typer.Argument(..., help="Processor whose state to rebuild: kpis."),
    strict: bool = typer.Option(False, help="Exit with status 1 when the rebuilt state differs from the running one."),
    bootstrap_servers: str = typer.Option(None, help="Overrides OMNIBUS_KAFKA__BOOTSTRAP_SERVERS."),
) -> None:
    """Rebuild one processor's state from its input topics (fresh state, no consumer group) and compare it with
    what the running processor published."""
    replays = {"kpis": replay_kpis}
    if processor not in replays:
        raise typer.BadParameter(f"unknown processor {processor!r}; one of: {', '.join(sorted(replays))}")
    equal = replays[processor](_settings(bootstrap_servers))
    typer.echo("rebuilt state equals the running one" if equal else "rebuilt state DIFFERS from the running one")
    if strict and not equal:
        raise typer.Exit(1)
