"""``python -m adapters.branch.agent``: the counter agent alone, for terminals without the full CLI."""

from adapters.branch.agent.cli import app

app(prog_name="counter-agent")
