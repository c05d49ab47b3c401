"""Sub-commands whose module is imported when they are used, not when the command tree is built.

Every ``omnibus`` process (a worker, an adapter, a one-shot command) built the whole tree first, so it imported
every adapter and processor: ``from omnibus.cli import app`` cost 2.7 s of CPU, where ``identity run`` needs
about 1.0 s of it (``processors.identity.cli``) and ``adapter web run`` 1.2 s (``python -X importtime``, ci45).
CI alone starts a few hundred such processes.

``lazy_group(loaders)`` is a typer group class (``typer.Typer(cls=...)``) whose sub-commands named in ``loaders``
(``{name: "module:attribute"}``, or a callable building the typer app) are built on first use: an invocation
resolves only the words on its own path (``get_command``), a group's ``--help`` lists and so loads all of its
sub-commands, and so does anything that reads the group's whole ``commands`` mapping (the tests that walk the
tree). Each loaded sub-app gets its help cleaned (``bus.cli.help_text.plain_help``) as it would at composition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup

from bus.cli.help_text import plain_help

Loader = str | Callable[[], Any]  # "module:attribute" naming a typer.Typer or a command function, or a callable
# returning one


class LazyCommands(MutableMapping[str, Any]):
    """A group's ``{name: click command}`` (typer's vendored click) where the commands of ``loaders`` are built on
    first access. Iteration, ``len`` and ``in`` load nothing and keep the order of creation (eager ones first)."""

    def __init__(self, loaded: Mapping[str, Any], loaders: Mapping[str, Callable[[], Any]]) -> None:
        self._loaded = dict(loaded)
        self._loaders = {name: load for name, load in loaders.items() if name not in self._loaded}
        self._order = [*self._loaded, *self._loaders]

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            load = self._loaders.pop(name)  # KeyError: no such sub-command
            self._loaded[name] = load()
        return self._loaded[name]

    def get(self, name: str, default: Any = None) -> Any:
        """The command ``name``, built if need be, or ``default``; an error while building it propagates (the
        mapping's own ``get`` would take a ``KeyError`` raised inside a loader for "no such command")."""
        return self[name] if name in self else default

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaders.pop(name, None)
        if name not in self._order:
            self._order.append(name)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._loaders.pop(name, None)
        self._order.remove(name)

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._loaders

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)


def lazy_group(loaders: Mapping[str, Loader], *, helps: Mapping[str, str] | None = None) -> type[TyperGroup]:
    """A ``TyperGroup`` class whose sub-commands ``loaders`` are built on first use (see the module). ``helps``
    gives a group's help where its typer app has none of its own (``add_typer(..., help=...)``)."""
    builders = {name: _builder(name, loader, (helps or {}).get(name)) for name, loader in loaders.items()}

    class LazyGroup(TyperGroup):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.commands = LazyCommands(self.commands, builders)

    return LazyGroup


def _builder(name: str, loader: Loader, help_text: str | None) -> Callable[[], Any]:
    def build() -> Any:
        target = resolve(loader)
        return typer_command(name, target, help_text) if isinstance(target, typer.Typer) else \
            function_command(name, target)

    return build


def resolve(loader: Loader) -> Any:
    """The object ``loader`` names (``"module:attribute"``, imported now) or returns."""
    if callable(loader):
        return loader()
    module, _, attribute = loader.partition(":")
    return getattr(import_module(module), attribute)


def typer_command(name: str, sub_app: typer.Typer, help_text: str | None = None) -> Any:
    """``sub_app`` as the click group ``add_typer(sub_app, name=name, help=help_text)`` makes of it."""
    holder = _holder()
    if help_text is None:
        holder.add_typer(sub_app, name=name)
    else:
        holder.add_typer(sub_app, name=name, help=help_text)
    return _built(holder, name)


def function_command(name: str, function: Callable[..., Any]) -> Any:
    """``function`` as the click command ``app.command(name)(function)`` makes of it."""
    holder = _holder()
    holder.command(name)(function)
    return _built(holder, name)


def _holder() -> typer.Typer:
    holder = typer.Typer(add_completion=False)
    holder.callback()(_no_options)  # a callback makes typer build a group, whose commands[name] is the one wanted
    return holder


def _no_options() -> None:
    return None


def _built(holder: typer.Typer, name: str) -> Any:
    plain_help(holder)
    return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]
