"""``python -m adapters.branch.agent``: the counter agent alone, for terminals without the full CLI; the same start
and end as ``omnibus counter-agent`` (``omnibus.entry``, ``omnibus.cli.main``)."""

import sys

from adapters.branch.agent import RUNS_UNTIL_STOPPED
from bus import early_stop

with early_stop.while_starting(sys.argv[1:], RUNS_UNTIL_STOPPED):  # a SIGTERM as ``run`` starts: one line, status 0
    from adapters.branch.agent.cli import app
    from bus.shutdown import exit_at_once_once_stopping

    with exit_at_once_once_stopping():  # once its stop began, the process ends after its last line
        app(prog_name="counter-agent")
