"""The verifier's result: named checks, each with what it looked at and its failures, plus run figures."""

from __future__ import annotations

from dataclasses import dataclass, field

from bus.identifiers.masking import mask
from processors.verify.lag import Unread

MAX_LISTED = 20  # failures listed per check, items per figure; the count is always complete
# Figures that are totals of what was read, not of items to look at: the only ones ``--list-figures`` does not list.
# Every other figure is counted with its items (``count_item``, ``count_items``; "contacts without an
# identifier 36" was counted with ``count`` and listed none).
TOTALS = ("events", "undecodable records")


@dataclass
class Check:
    """One property checked: ``checked`` items looked at, one line per failure (no identifier in clear)."""

    name: str
    checked: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, line: str) -> None:
        self.failures.append(line)


@dataclass
class Report:
    """Every check of one verification, and the figures a fault test records (counts, not rates)."""

    checks: list[Check] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # worth knowing, not failures (e.g. customers awaiting review)
    # What a figure counts, one line per item (contact, event, handoff and customer ids, never an identifier value):
    # ``omnibus verify --list-figures`` prints them ("contacts left by a claim 60" named none;
    # the figures of a failing run listed nothing).
    items: dict[str, list[str]] = field(default_factory=dict)
    # Records a processor has not read yet (``processors.verify.lag``): when any, no check ran.
    unread: list[Unread] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.judged and all(check.ok for check in self.checks)

    @property
    def judged(self) -> bool:
        """Whether the checks ran: not while a processor has records it has not read yet (``unread``), which would
        otherwise count as lost."""
        return not self.unread

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def check(self, name: str) -> Check:
        """The check called ``name``; raises ``KeyError`` when there is none."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def note(self, line: str) -> None:
        self.notes.append(line)

    def count(self, name: str, value: int) -> None:
        """Add ``value`` to the total ``name`` (one of ``TOTALS``); raises ``ValueError`` for any other figure, which is
        counted with its items (``count_item``, ``count_items``) so that ``--list-figures`` lists them."""
        if name not in TOTALS:
            raise ValueError(f"figure {name!r} is no total ({', '.join(TOTALS)}): count it with its items")
        self._add(name, value)

    def _add(self, name: str, value: int) -> None:
        self.figures[name] = self.figures.get(name, 0) + value

    def count_item(self, name: str, line: str) -> None:
        """Count one item in the figure ``name`` and list it (``items``): ``line`` names it by ids only."""
        self._add(name, 1)
        self.items.setdefault(name, []).append(line)

    def count_items(self, name: str, lines: list[str]) -> None:
        """Count ``len(lines)`` in the figure ``name`` and list each line (``items``): a figure that counts the
        failures of a check lists them; ``lines`` name items by ids only. A figure of 0 is still reported."""
        self._add(name, len(lines))
        if lines:
            self.items.setdefault(name, []).extend(lines)

    def notes_left_out(self) -> str | None:
        """``… and N more (the figures count them all)`` past ``MAX_LISTED`` notes, else None."""
        left = len(self.notes) - MAX_LISTED
        return f"… and {left} more (the figures count them all)" if left > 0 else None

    def failures(self) -> list[str]:
        return [f"{check.name}: {line}" for check in self.checks for line in check.failures]

    def lines(self) -> list[str]:
        """Plain-text rendering: one line per check, its failures (up to ``MAX_LISTED``) under it; or, not judged,
        what each processor has not read yet."""
        out = [f"not judged: {u.line()}" for u in self.unread]
        for check in self.checks:
            status = "ok  " if check.ok else "FAIL"
            out.append(f"{status} {check.name} ({check.checked} checked, {len(check.failures)} failed)")
            out += [f"     - {line}" for line in check.failures[:MAX_LISTED]]
            if len(check.failures) > MAX_LISTED:
                out.append(f"     … and {len(check.failures) - MAX_LISTED} more")
        out += [f"note {line}" for line in self.notes[:MAX_LISTED]]
        if (more := self.notes_left_out()) is not None:
            out.append(f"note {more}")
        out.append("figures: " + ", ".join(f"{k} {v}" for k, v in sorted(self.figures.items())))
        return out


def shown(key: str) -> str:
    """An identifier key ``TYPE:value`` as a report may show it (masked: ``bus.identifiers.masking``)."""
    kind, sep, value = key.partition(":")
    return f"{kind}:{mask(kind, value)}" if sep else mask("", key)
