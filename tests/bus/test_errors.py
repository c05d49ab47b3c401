"""One error root: every exception class Omnibus declares derives from ``OmnibusError`` and says if it is
retriable."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from bus.errors import OmnibusError

PACKAGES = ("schemas", "bus", "adapters", "processors", "demo", "omnibus")


def _declared_exceptions() -> list[type[BaseException]]:
    found = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if module_info.name.endswith("__main__"):
                continue
            module = importlib.import_module(module_info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                # a SystemExit of its own (bus.early_stop.EarlyStop) is how a process ends, not an error
                if issubclass(cls, BaseException) and not issubclass(cls, SystemExit) \
                        and cls.__module__ == module.__name__:
                    found.append(cls)
    return found


DECLARED = _declared_exceptions()


def test_there_is_a_tree_to_check() -> None:
    names = {cls.__name__ for cls in DECLARED}
    assert {"SchemaParseError", "StackError", "MavenError", "Unavailable", "NoWorkingTime", "ConfigError"} <= names


@pytest.mark.parametrize("cls", DECLARED, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_declared_error_has_the_one_root(cls: type[BaseException]) -> None:
    assert issubclass(cls, OmnibusError)
    assert isinstance(cls.retriable, bool)  # type: ignore[attr-defined]


def test_retriable_follows_the_kind() -> None:
    from processors.identity.web import Unavailable
    from schemas.errors import SchemaNotFound

    assert Unavailable("rebalancing").retriable is True
    assert SchemaNotFound("x").retriable is False
    assert OmnibusError("broker gone", retriable=True).retriable is True
