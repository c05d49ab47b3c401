"""``omnibus stack up|down|status``: a local Kafka broker (+ schema registry) in the background."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from bus.cli.progress import waiting
from bus.cli.tables import report_console, report_table
from bus.stack.local import DEFAULT_PORTS, STOPPED, LocalStack, StackPorts
from bus.stack.maven import MavenError
from bus.stack.process import StackError

app = typer.Typer(no_args_is_help=True, help="Run a local Kafka broker (and schema registry).")
console = report_console()
err = Console(stderr=True)

StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir", help="Where state, data and logs live (default: $OMNIBUS_STACK_DIR or <repo>/.omnibus)"
    ),
]


def _port_help(what: str, default: int | None) -> str:
    return f"{what} on 127.0.0.1 (default {default}, below the system's ephemeral range; 0: one the system picks)"


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help=_port_help("Kafka client port", DEFAULT_PORTS.kafka))] = None,
    controller_port: Annotated[int | None, typer.Option(
        help=_port_help("Kafka's KRaft controller port", DEFAULT_PORTS.controller))] = None,
    registry_port: Annotated[int | None, typer.Option(
        help=_port_help("schema registry port", DEFAULT_PORTS.registry))] = None,
    registry: Annotated[bool, typer.Option("--registry/--no-registry", help="Also start the schema registry.")] = True,
    state_dir: StateDir = None,
    wipe: Annotated[bool, typer.Option("--wipe", help="Start an empty cluster instead of the recorded one (after "
                                       "'stack down' or a crash).")] = False,
) -> None:
    """Start the stack, print its addresses and exit, leaving it running in the background.

    After ``stack down`` or a crash (the broker killed) the broker recorded in ``stack.json`` comes back with its
    topics and data on its port, and the registry keeps (or comes back with) its schema ids, unless ``--wipe``.
    The ports are fixed, below the system's ephemeral range, so that no other process is given one while the stack
    is down; one in use stops ``up`` naming it.
    """
    ports = StackPorts(port, controller_port, registry_port)
    stack = LocalStack(state_dir, ports=ports, defaults=DEFAULT_PORTS, registry=registry, detach=True, wipe=wipe)
    try:
        with waiting(err, "starting Kafka" + (" and the schema registry" if registry else "") + " ..."):
            state = stack.up()
    except (StackError, MavenError) as exc:
        err.print(f"[red]stack up failed:[/red] {escape(str(exc))}", highlight=False)
        if "already in use" in str(exc):
            chosen = ports.over(DEFAULT_PORTS)
            err.print(f"ports: --port {chosen.kafka or 0}, --controller-port {chosen.controller or 0}, --registry-port "
                      f"{chosen.registry or 0} (0: one the system picks)", highlight=False)
        raise typer.Exit(1) from exc
    kafka = state["kafka"]
    if state.get("restarted_registry"):
        console.print(f"the broker was running; restarted the schema registry recorded in {stack.state_file} on its "
                      "port with its schemas", highlight=False)
    if state.get("restarted"):
        console.print(f"restarted the broker recorded in {stack.state_file} with its data (--wipe starts afresh)",
                      highlight=False)
    console.print(f"bootstrap servers: {kafka['bootstrap_servers']}")
    if state["registry"]:
        console.print(f"schema registry:   {state['registry']['url']}")
    elif registry:
        err.print(f"[yellow]schema registry unavailable:[/yellow] {escape(str(state['registry_unavailable']))}")
    console.print(f"state: {stack.state_file}   stop with: omnibus stack down", highlight=False)


@app.command()
def down(state_dir: StateDir = None) -> None:
    """Stop the processes recorded by ``up`` (and only those); the data stays: ``up`` brings them back with it."""
    stack = LocalStack(state_dir)
    if stack.read_state() is None:
        console.print(f"no local stack recorded in {stack.state_file}")
        return
    try:
        stopped = stack.down()
    except StackError as exc:
        err.print(f"[red]stack down failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    console.print("stopped: " + (", ".join(stopped) if stopped else "nothing was still running"))
    console.print("the topics and data stay: 'omnibus stack up' brings them back, 'omnibus stack up --wipe' starts "
                  "afresh", highlight=False)


@app.command()
def status(state_dir: StateDir = None) -> None:
    """Show what ``up`` started and whether it is still alive. Exit code 1 if something is down."""
    stack = LocalStack(state_dir)
    state = stack.status()
    if state is None:
        console.print(f"no local stack recorded in {stack.state_file}")
        raise typer.Exit(1)
    if state.get(STOPPED):
        console.print(f"the local stack recorded in {stack.state_file} was stopped by 'omnibus stack down': "
                      "'omnibus stack up' brings it back with its data", highlight=False)
    table = report_table("component", "version", "state", "pid", "address", "log",
                         title=f"Omnibus local stack ({state['state_dir']})")
    healthy = True
    for name, address_key in (("kafka", "bootstrap_servers"), ("registry", "url")):
        part: dict[str, Any] | None = state.get(name)
        if part is None:
            note = state.get("registry_unavailable") if name == "registry" else None
            table.add_row(name, "-", "unavailable" if note else "not started", "-", "-", escape(note or "-"))
            continue
        alive = part["alive"] and part["listening"]
        healthy &= alive
        if alive:
            label = "[green]running[/green]"
        else:
            label = "[yellow]not listening[/yellow]" if part["alive"] else "[red]stopped[/red]"
        table.add_row(name, part["version"], label, str(part["pid"]), part[address_key], part["log_path"])
    console.print(table)
    if not healthy:
        raise typer.Exit(1)
