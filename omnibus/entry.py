"""The ``omnibus`` script's entry point (``python -m omnibus`` too): SIGTERM handled from the command's first line.

Importing the command tree (``omnibus.cli``: typer, pydantic, faust, aiokafka) takes 0.7 s of CPU, 2-3 s on a busy
host; a SIGTERM then, with its default action, ended a worker or an adapter with status 143 and an empty log. So
``main`` enters ``bus.early_stop.while_starting`` (standard library only) before importing it: for a command in
``RUNS_UNTIL_STOPPED`` an early SIGTERM is one line naming the command's component and status 0, from the moment
this module runs. Only the interpreter's own start comes before (with the virtualenv's ``.pth`` files: about 0.1 s
of CPU; README "Operating it").
"""

from __future__ import annotations

import sys

from bus import early_stop

# The groups whose ``run`` starts a faust worker (``bus.app.run_worker``); each is its component (``APP_NAME``).
WORKERS = ("identity", "kpis", "handoffs", "offers")
# The commands that run until stopped -> the component their lines name: a SIGTERM while one starts stops it cleanly
# (``bus.early_stop``). Written here, not imported: this module loads before any adapter or processor (tests keep the
# names equal to theirs).
RUNS_UNTIL_STOPPED: early_stop.Commands = {
    **{(group, "run"): group for group in WORKERS},
    ("adapter", "web", "run"): "adapter.web",
    ("adapter", "branch", "run"): "adapter.branch",
    ("adapter", "call-center", "run"): "adapter.call_center",
    ("adapter", "call-center", "import-cdr", "--follow"): "adapter.call_center",  # one-shot without ``--follow``
    ("adapter", "legacy", "relay"): "adapter.legacy",
    ("adapter", "legacy", "poll"): "adapter.legacy",
    ("counter-agent", "run"): "counter-agent",  # ``adapters.branch.agent.RUNS_UNTIL_STOPPED`` under its group
}


def main() -> None:
    """The ``omnibus`` command (``omnibus.cli.main``), its modules imported under the early SIGTERM handling."""
    with early_stop.while_starting(sys.argv[1:], RUNS_UNTIL_STOPPED):
        from omnibus.cli import main as command  # seconds: a SIGTERM meanwhile is one line and status 0

        command()
