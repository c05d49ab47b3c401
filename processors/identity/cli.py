"""``omnibus identity run | openapi | pop | split | merge | unmerge | move-contact | release | review list | review
accept ID | review reject ID``: the ``identity`` group. Each command is in a module of its own role: ``pop_cli.py``
(the screen pop), ``split_cli.py``, ``merge_cli.py`` and ``cli_unmerge.py`` (customers), ``release_cli.py`` (one
identifier or contact off a customer), ``review_cli.py`` (merge candidates); what they share is in ``cli_common.py``."""

from __future__ import annotations

import json

import typer

from bus.bootstrap import bad_settings_exit, start_process
from processors.identity.cli_unmerge import unmerge_command
from processors.identity.config import ENV_PREFIX, load_identity_settings
from processors.identity.merge_cli import merge_command
from processors.identity.pop_cli import pop_command
from processors.identity.release_cli import move_contact_command, release_command
from processors.identity.review_cli import review_app
from processors.identity.split_cli import split_command

app = typer.Typer(no_args_is_help=True)
app.add_typer(review_app, name="review")
app.command("unmerge")(unmerge_command)


@app.command("run")
def run_command(
    ctx: typer.Context,
    web_port: int = typer.Option(None, help="Screen-pop HTTP port (overrides OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT)."),
) -> None:
    """Run an identity-resolution worker (start several: the graph is partitioned across them)."""
    from bus.app import run_worker
    from processors.identity.agent import COMPONENT, IdentityProcessor

    process = start_process(lambda _: load_identity_settings(), metrics_of=COMPONENT)
    settings, identity = process.settings, process.component
    book = getattr(ctx.obj, "profile_book", None)  # handed in by the composition (omnibus.cli)
    port = web_port if web_port is not None else identity.web_port
    with bad_settings_exit():
        processor = IdentityProcessor(settings, identity, web_port=port, book=book() if book else None)
    run_worker(processor.app, settings, web_port_setting=f"{ENV_PREFIX}WEB_PORT (or --web-port)")


@app.command("openapi")
def openapi_command() -> None:
    """Print the screen pop's OpenAPI document (what ``GET /openapi.json`` on identity's web port answers)."""
    from bus.identifiers.normaliser import load_identifier_settings
    from processors.identity.openapi import openapi

    # as this deployment's OMNIBUS_IDENTIFIERS__* serve it
    typer.echo(json.dumps(openapi(identifiers=load_identifier_settings()), indent=2))


app.command("pop")(pop_command)
app.command("split")(split_command)
app.command("merge")(merge_command)
app.command("move-contact")(move_contact_command)
app.command("release")(release_command)
