"""Comparing a rebuilt state with the running one, key by key (any JSON-able values)."""

from __future__ import annotations

from collections.abc import Mapping
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

    def details(self, limit: int = 20) -> list[str]:
        """One line per differing key (the fields that differ), then keys found on one side only."""
        lines = []
        for key, mine, theirs in self.differing[:limit]:
            if isinstance(mine, Mapping) and isinstance(theirs, Mapping):
                changed = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
                lines.append(f"  {key}: " + ", ".join(
                    f"{k} rebuilt {mine.get(k)!r} running {theirs.get(k)!r}" for k in changed))
            else:
                lines.append(f"  {key}: rebuilt {mine!r} running {theirs!r}")
        lines += [f"  {key}: only in the rebuilt state" for key in self.only_rebuilt[:limit]]
        lines += [f"  {key}: only in the running state" for key in self.only_running[:limit]]
        return lines


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
