"""``omnibus identity pop TYPE VALUE | --customer ID``: the screen pop a running identity worker serves."""

from __future__ import annotations

import json

import typer

from bus.bootstrap import COMMAND_FAILED_EXIT, KAFKA_UNAVAILABLE_EXIT
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.readiness import HELD_BACK_KEY
from processors.identity.cli_common import _settings_or_exit
from processors.identity.config import ENV_PREFIX


def pop_command(
    kind: str = typer.Argument(None, metavar="[TYPE]", help=f"Identifier type ({', '.join(IDENTIFIER_TYPES)})."),
    value: str = typer.Argument(None, metavar="[VALUE]", help="The identifier as written anywhere (a phone as dialled, "
                                "an e-mail); never logged."),
    customer: str = typer.Option(None, help="A customer id instead of an identifier (merges followed)."),
    region: str = typer.Option(None, help="Phone region the number is dialled in (ISO 3166-1 alpha-2, e.g. FR) "
                               "when not the deployment's default."),
    # "(default: ...)", not "[default: ...]": rich reads a bracket as markup and printed "address ."
    url: str = typer.Option(None, help="A running identity worker's screen-pop address (default: "
                            f"127.0.0.1 at the port in {ENV_PREFIX}WEB_PORT, which the demo's printed exports set)."),
    timeout_s: float = typer.Option(10.0, "--timeout", min=0.1, help="Seconds to wait for the answer."),
) -> None:
    """Print the screen pop of the customer who keeps an identifier (or of --customer ID) as JSON: what GET
    /customers/lookup (GET /customers/{id}) of a running identity worker answers, values masked. Exit 1 when no
    customer has it, 2 when the worker refuses the input, 69 when no worker answers or it cannot answer yet (503, or
    a 404 while records wait that may hold the customer: its held_back)."""
    from processors.identity.pop_client import NoAnswer, fetch_pop, pop_url
    from processors.web_auth import authorization

    if (customer is None) == (kind is None) or (kind is None) != (value is None):
        typer.echo("error: give TYPE and VALUE, or --customer ID (not both)", err=True)
        raise typer.Exit(2)
    settings, identity = _settings_or_exit()
    if url is None:
        if identity.web_port == 0:  # the worker took a free port: only its log says which
            from bus.app import PORT_CHOSEN_EVENT

            typer.echo(f"error: {ENV_PREFIX}WEB_PORT is 0, so the worker took a free port, written in its log line "
                       f"{PORT_CHOSEN_EVENT!r} (\"port\": N): give --url http://127.0.0.1:N, or set "
                       f"{ENV_PREFIX}WEB_PORT to N", err=True)
            raise typer.Exit(2)
        if not identity.web_port:
            typer.echo(f"error: {ENV_PREFIX}WEB_PORT is unset (no screen pop is served): give --url", err=True)
            raise typer.Exit(2)
        url = f"http://127.0.0.1:{identity.web_port}"
    target = pop_url(url, customer_id=customer) if customer is not None else pop_url(
        url, kind=kind.strip().upper(), value=value, region=region)
    try:
        answer = fetch_pop(target, timeout_s, authorization(settings.web.tokens))
    except NoAnswer as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(KAFKA_UNAVAILABLE_EXIT) from None
    if answer.status == 200:
        typer.echo(json.dumps(answer.body, indent=2, ensure_ascii=False))
        return
    error = answer.body.get("error") or f"HTTP {answer.status}"  # the worker's words
    if answer.status == 404 and (held_back := answer.body.get(HELD_BACK_KEY)) is not None:
        typer.echo(f"error: {error} yet: records wait that may hold it ({held_back}); ask again later", err=True)
        raise typer.Exit(KAFKA_UNAVAILABLE_EXIT)
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit({404: COMMAND_FAILED_EXIT, 503: KAFKA_UNAVAILABLE_EXIT}.get(answer.status, 2))
