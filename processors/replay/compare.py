"""Comparing a rebuilt state with the running one, key by key (any JSON-able values)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Comparison:
    same: int = 0
    differing: list[tuple[str, Any, Any]] = field(default_factory=list)  # (key, rebuilt, running)
    only_rebuilt: list[str] = field(default_factory=list)
    only_running: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.differing or self.only_rebuilt or self.only_running)

    def summary(self) -> str:
        return (f"same: {self.same}, differing: {len(self.differing)}, only rebuilt: {len(self.only_rebuilt)}, "
                f"only running: {len(self.only_running)}")

    def details(self, limit: int = 20, shown: Callable[[str], str] = str) -> list[str]:
        """One line per differing key (the fields that differ), then keys found on one side only.

        ``shown``: how a key, and each string of a value, is printed (identifiers: masked by
        ``processors.verify.report.shown`` as verify masks them, for a report may be pasted into a ticket)."""
        lines = []
        for key, mine, theirs in self.differing[:limit]:
            if isinstance(mine, Mapping) and isinstance(theirs, Mapping):
                changed = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
                lines.append(f"  {shown(key)}: " + ", ".join(
                    f"{k} rebuilt {_shown(mine.get(k), shown)!r} running {_shown(theirs.get(k), shown)!r}"
                    for k in changed))
            else:
                lines.append(f"  {shown(key)}: rebuilt {_shown(mine, shown)!r} running {_shown(theirs, shown)!r}")
        lines += [f"  {shown(key)}: only in the rebuilt state" for key in self.only_rebuilt[:limit]]
        lines += [f"  {shown(key)}: only in the running state" for key in self.only_running[:limit]]
        return lines


def _shown(value: Any, shown: Callable[[str], str]) -> Any:
    """``value`` with ``shown`` applied to every string in it (in lists, tuples and dict values)."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, list | tuple):
        return [_shown(item, shown) for item in value]
    if isinstance(value, Mapping):
        return {k: _shown(item, shown) for k, item in value.items()}
    return value


def compare(rebuilt: Mapping[str, Any], running: Mapping[str, Any]) -> Comparison:
    result = Comparison()
    for key in sorted(set(rebuilt) | set(running)):
        if key not in running:
            result.only_rebuilt.append(key)
        elif key not in rebuilt:
            result.only_running.append(key)
        elif rebuilt[key] == running[key]:
            result.same += 1
        else:
            result.differing.append((key, rebuilt[key], running[key]))
    return result
