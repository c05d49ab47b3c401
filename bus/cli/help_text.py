"""Help texts for the terminal: the docstrings typer shows, without their reStructuredText markup.

Command docstrings serve two readers: the code's (Sphinx-style ````name```` literals, lines wrapped at the
code's width) and ``--help``'s, where typer printed them as they are (raw double backticks, a line break
in mid-sentence). ``plain_help`` rewrites every command's, group's and option's help of a typer app once,
at composition (``omnibus/cli.py``, and ``bus.cli.lazy`` for each sub-command as it is loaded), so no module has
to write its docstring twice.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import typer
from typer.core import TyperOption
from typer.models import ParameterInfo

_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)
_PARAGRAPHS = re.compile(r"\n\s*\n")


def plain(text: str) -> str:
    """``text`` with ````x```` literals as ``x`` and each paragraph on one line (blank lines kept between)."""
    text = _LITERAL.sub(r"\1", text).replace("``", "")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in _PARAGRAPHS.split(text.strip()))


def _flags_show_no_type() -> None:
    """typer (0.2x with click 8.3) prints every option's value type in ``--help``, ``<bool>`` beside flags too
    (``--help <bool>``, ``--dry-run <bool>``), though a flag takes no value: show none for flags and
    counters. Idempotent."""
    shown = TyperOption.display_type_rich
    if getattr(shown, "flags_show_no_type", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:  # typer's vendored click.Context
        return None if self.is_flag or self.count else shown(self, ctx)

    display_type_rich.flags_show_no_type = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


def plain_help(app: typer.Typer) -> None:
    """Rewrite in place the help of every command, group and option under ``app`` (idempotent); flags show no value
    type (``_flags_show_no_type``)."""
    _flags_show_no_type()
    if isinstance(app.info.help, str):
        app.info.help = plain(app.info.help)
    if app.registered_callback is not None:
        _plain_info(app.registered_callback)
    for command in app.registered_commands:
        _plain_info(command)
    for group in app.registered_groups:
        if isinstance(group.help, str):
            group.help = plain(group.help)
        if group.typer_instance is not None:
            plain_help(group.typer_instance)


def _plain_info(info: typer.models.CommandInfo | typer.models.TyperInfo) -> None:
    if isinstance(info.help, str):
        info.help = plain(info.help)
    elif info.callback is not None and inspect.getdoc(info.callback):
        info.help = plain(inspect.getdoc(info.callback) or "")
    if info.callback is None:
        return
    for parameter in inspect.signature(info.callback).parameters.values():
        if isinstance(parameter.default, ParameterInfo) and isinstance(parameter.default.help, str):
            parameter.default.help = plain(parameter.default.help)
