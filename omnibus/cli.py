"""The ``omnibus`` command: one entry point, a sub-command per job, composed here at the top.

What the parts need from each other is handed in from here (``Composition`` on the typer context), so
no processor imports another: the identity processor gets its profile sections from this module.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import typer

from bus import early_stop
from bus.bootstrap import startup_failure_exit
from bus.cli.help_text import plain_help
from bus.cli.lazy import Loader, lazy_group
from omnibus.entry import RUNS_UNTIL_STOPPED

if TYPE_CHECKING:
    from bus.config import OmnibusSettings
    from processors.deadletters.new_id import Reissue
    from processors.deadletters.sealed import Resubmit
    from processors.profile.book import ProfileBook


@dataclass(frozen=True)
class Composition:
    """What the composition hands to the commands (``ctx.obj``)."""

    def profile_book(self) -> ProfileBook:
        """The screen-pop profile sections the identity processor keeps (``processors.profile.registry``)."""
        from processors.profile.book import ProfileBook

        return ProfileBook.from_registry()

    def reissues(self, settings: OmnibusSettings) -> dict[str, Reissue]:
        """Component name -> how ``deadletters redrive --new-id`` maps its input refused for its id again
        (``omnibus.reissues``)."""
        from omnibus.reissues import reissues

        return reissues(settings)

    def resubmits(self, settings: OmnibusSettings) -> dict[str, Resubmit]:
        """Component name -> how ``deadletters redrive`` re-submits a body its HTTP ingress refused, opened from its
        seal (``omnibus.resubmits``)."""
        from omnibus.resubmits import resubmits

        return resubmits(settings)


@cache
def _topics() -> typer.Typer:
    """``bus.cli.topics`` with ``topics read`` (the replay processor's reader), composed once."""
    from bus.cli import topics
    from processors.replay import read_cli

    topics.app.command("read")(read_cli.read_command)
    return topics.app


@cache
def _report() -> typer.Typer:
    """The handoffs' ``report`` group with ``report kpis`` (the KPI processor's report), composed once."""
    from processors.handoffs import cli as handoffs_cli
    from processors.kpis import cli as kpis_cli

    handoffs_cli.report_app.command("kpis")(kpis_cli.report_command)
    return handoffs_cli.report_app


# Each sub-command's module is imported only when that sub-command is used (bus.cli.lazy): a worker process
# imports its own processor, not every adapter and processor. Channel adapters register in ADAPTERS.
ADAPTERS: dict[str, Loader] = {
    "web": "adapters.web.cli:app",
    "branch": "adapters.branch.cli:app",
    "call-center": "adapters.call_center.cli:app",
    "legacy": "adapters.legacy.cli:app",
}
adapter = typer.Typer(no_args_is_help=True, help="Run a channel adapter.", cls=lazy_group(ADAPTERS))
COMMANDS: dict[str, Loader] = {  # in the order --help lists them: commands, then groups
    "demo": "demo.cli:demo",
    "replay": "processors.replay.cli:replay_command",
    "verify": "processors.verify.cli:verify_command",
    "stack": "bus.cli.stack:app",
    "topics": _topics,
    "deadletters": "processors.deadletters.cli:app",
    "schemas": "bus.cli.schemas:app",
    "handoffs": "processors.handoffs.cli:app",
    "identity": "processors.identity.cli:app",
    "report": _report,
    "kpis": "processors.kpis.cli:app",
    "offers": "processors.offers.cli:app",
    "adapter": lambda: adapter,
    "counter-agent": "adapters.branch.agent.cli:app",
}
HELPS = {
    "stack": "Run a local Kafka broker (and schema registry).",
    "topics": "Create or update Omnibus topics on a cluster; read what landed on one.",
    "schemas": "Inspect and check the Avro contract.",
    "identity": "Identity resolution: run a worker, split a customer, decide merge reviews.",
}

def _undecodable_exit(*_: object, **__: object) -> None:
    """After a command's answer: records it read but could not decode make it fail, in one ``error:`` line with
    status 65 (``bus.undecodable``; "0 offer(s)", exit 0, with 7 offers live)."""
    from bus.undecodable import exit_if_skipped

    exit_if_skipped()


app = typer.Typer(
    name="omnibus",
    help="Omnibus channel-integration middleware: local stack, topics, schemas, adapters, processors.",
    no_args_is_help=True,
    cls=lazy_group(COMMANDS, helps=HELPS),
    result_callback=_undecodable_exit,
)


@app.callback()
def _compose(ctx: typer.Context) -> None:
    from bus import undecodable

    undecodable.reset()
    ctx.call_on_close(undecodable.report_if_skipped)  # a command that ended with a status of its own
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


plain_help(app)  # docstrings' ``literals`` and code-width line breaks, cleaned once for every --help


def main() -> None:
    """The command tree (run by ``omnibus.entry.main``, the installed ``omnibus`` script); a bad setting found late
    (a TLS file that cannot be read when the first client connects) still ends in one line and exit 2, a broker that
    cannot be reached at start-up in one line and exit 69 (``bus.bootstrap.startup_failure_exit``); a worker or an
    adapter asked to stop (SIGTERM) while it starts in one line and exit 0 (``bus.early_stop``:
    ``RUNS_UNTIL_STOPPED``; entered again here for a script installed before ``omnibus.entry``); a process whose stop
    began ends right after its last line (``bus.shutdown.exit_at_once_once_stopping``)."""
    from bus.shutdown import exit_at_once_once_stopping

    with exit_at_once_once_stopping(), early_stop.while_starting(sys.argv[1:], RUNS_UNTIL_STOPPED), \
            startup_failure_exit():
        app()


if __name__ == "__main__":
    main()
