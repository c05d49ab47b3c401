"""``omnibus demo``."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from bus.logging import configure_logging

app = typer.Typer()


@app.command()
def demo(
    customers: int = typer.Option(12, min=1, max=500, help="How many synthetic customers to run through."),
    keep_running: bool = typer.Option(False, help="Leave everything running until Ctrl-C."),
) -> None:
    """Run the whole middleware on a local Kafka broker with demo traffic, then stop it all."""
    from demo.run import run_demo

    configure_logging("WARNING")
    console = Console()
    ok = asyncio.run(run_demo(customers, keep_running=keep_running, console=console))
    if not ok:
        console.print("[red]The demo did not see every channel reach the screen pop.[/]")
        raise typer.Exit(1)
    console.print("[green]Every channel reached the customer's screen pop.[/]")
