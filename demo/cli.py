"""``omnibus demo``."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from rich.console import Console

from bus.logging import bind_component, configure_logging
from demo import COMPONENT

app = typer.Typer()
T = TypeVar("T")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


# Loggers the demo shows from ERROR up only: lines of what the demo does on purpose or of load it makes on purpose
DEMO_QUIET_LOGGERS = (
    "bus.dead_letter",  # the malformed call it sends: it shows the 400 and the dead letter itself
    "faust.transport.producer",  # "producer buffer full size N": faust holding a table's writers back, not a fault
)


def demo_logging() -> None:
    """Warnings and errors only, and not ``DEMO_QUIET_LOGGERS``' warnings: each printed a raw JSON line between the
    demo's tables that a first-time user read as something gone wrong. A line names its component (``adapter.web``,
    ``identity``: ``demo.services``), else ``COMPONENT``."""
    configure_logging("WARNING")
    bind_component(COMPONENT)
    for name in DEMO_QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


async def _cancelled_by_signals(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``, cancelling it on SIGTERM or SIGHUP like Ctrl-C, so its ``finally`` blocks stop the local
    stack and remove the scratch folder (Kafka's data included) on any stop but ``kill -9``."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    for stop in STOP_SIGNALS:
        loop.add_signal_handler(stop, task.cancel)
    try:
        return await task
    finally:
        for stop in STOP_SIGNALS:
            loop.remove_signal_handler(stop)


@app.command()
def demo(
    customers: int = typer.Option(12, min=1, max=500, help="How many synthetic customers to run through."),
    keep_running: bool = typer.Option(False, help="Leave everything running until Ctrl-C or SIGTERM."),
) -> None:
    """Run the whole middleware on a local Kafka broker with demo traffic, then stop it all."""
    from demo.run import run_demo

    demo_logging()
    console = Console()
    try:
        ok = asyncio.run(_cancelled_by_signals(run_demo(customers, keep_running=keep_running, console=console)))
    except (asyncio.CancelledError, KeyboardInterrupt):
        console.print("[yellow]Stopped; the local stack and its data are removed.[/]")
        raise typer.Exit(130) from None
    if not ok:
        console.print("[red]The demo did not see every step it waits for (the red line above says which).[/]")
        raise typer.Exit(1)
    console.print("[green]Every channel reached the customer's screen pop.[/]")
