"""The ``omnibus`` command: one entry point, a sub-command per job, composed here at the top.

What the parts need from each other is handed in from here (``Composition`` on the typer context), so
no processor imports another: the identity processor gets its profile sections from this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import typer

from adapters.branch import cli as branch_cli
from adapters.branch.agent import cli as counter_agent_cli
from adapters.call_center import cli as call_center_cli
from adapters.legacy import cli as legacy_cli
from adapters.web import cli as web_cli
from bus.bootstrap import startup_failure_exit
from bus.cli import schemas, stack, topics
from bus.cli.help_text import plain_help
from demo import cli as demo_cli
from processors.deadletters import cli as deadletters_cli
from processors.handoffs import cli as handoffs_cli
from processors.identity import cli as identity_cli
from processors.kpis import cli as kpis_cli
from processors.offers import cli as offers_cli
from processors.profile.book import ProfileBook
from processors.replay import cli as replay_cli
from processors.replay import read_cli
from processors.verify import cli as verify_cli


@dataclass(frozen=True)
class Composition:
    """What the composition hands to the commands (``ctx.obj``)."""

    def profile_book(self) -> ProfileBook:
        """The screen-pop profile sections the identity processor keeps (``processors.profile.registry``)."""
        return ProfileBook.from_registry()


app = typer.Typer(
    name="omnibus",
    help="Omnibus channel-integration middleware: local stack, topics, schemas, adapters, processors.",
    no_args_is_help=True,
)


@app.callback()
def _compose(ctx: typer.Context) -> None:
    ctx.obj = Composition()
    _logs_to_stderr()


def _logs_to_stderr() -> None:
    """Every command logs through ``bus.logging`` from its first line: structured, redacted, on stderr, so
    stdout carries only the command's result (a one-shot command such as ``verify`` or ``identity split``
    printed structlog's plain-text default on stdout). Libraries' INFO lines (aiokafka, httpx) are left out of a
    one-shot command's answer; a long-running command configures it again once its settings are loaded, with
    them; a bad setting is reported by the command itself, not here."""
    from bus.config import load_settings
    from bus.errors import ConfigError
    from bus.logging import configure_logging

    try:
        log = load_settings().log
    except ConfigError:
        configure_logging(library_level="WARNING")
        return
    configure_logging(log.level, json_output=log.json_output, library_level="WARNING")


app.add_typer(stack.app, name="stack", help="Run a local Kafka broker (and schema registry).")
app.add_typer(topics.app, name="topics", help="Create or update Omnibus topics on a cluster; read what landed on one.")
topics.app.command("read")(read_cli.read_command)
app.add_typer(deadletters_cli.app, name="deadletters")
app.add_typer(schemas.app, name="schemas", help="Inspect and check the Avro contract.")
app.command("demo")(demo_cli.demo)
app.add_typer(handoffs_cli.app, name="handoffs")
app.add_typer(identity_cli.app, name="identity",
              help="Identity resolution: run a worker, split a customer, decide merge reviews.")
app.add_typer(handoffs_cli.report_app, name="report")
app.add_typer(kpis_cli.app, name="kpis")
handoffs_cli.report_app.command("kpis")(kpis_cli.report_command)
app.command("replay")(replay_cli.replay_command)
app.command("verify")(verify_cli.verify_command)
app.add_typer(offers_cli.app, name="offers")

adapter = typer.Typer(no_args_is_help=True, help="Run a channel adapter.")
app.add_typer(adapter, name="adapter")
# Channel adapters register here: adapter.add_typer(<channel>.cli.app, name="<channel>")
adapter.add_typer(web_cli.app, name="web")
adapter.add_typer(branch_cli.app, name="branch")
adapter.add_typer(call_center_cli.app, name="call-center")
adapter.add_typer(legacy_cli.app, name="legacy")
app.add_typer(counter_agent_cli.app, name="counter-agent")
plain_help(app)  # docstrings' ``literals`` and code-width line breaks, cleaned once for every --help


def main() -> None:
    """The installed ``omnibus`` script: the command tree; a bad setting found late (a TLS file that
    cannot be read when the first client connects) still ends in one line and exit 2, a broker that cannot
    be reached at start-up in one line and exit 69 (``bus.bootstrap.startup_failure_exit``)."""
    with startup_failure_exit():
        app()


if __name__ == "__main__":
    main()
