"""Times an export writes without a zone, read as the wall-clock time of the layout's ``timezone``.

A Spanish core-banking export writes ``03/12/2026 08:30``, Madrid time; read as UTC, a card blocked at 07:30Z was
recorded at 08:30Z, after a fraudulent call it preceded. A layout (or one of its fields) names the IANA zone its
times are written in (``timezone: Europe/Madrid``); a zone written in the value itself (``08:30+01:00``) still wins.

Daylight saving time, the rule (docs/legacy-batch.md, "Local times"):

- **A time that does not exist** (the hour the clocks skip in spring, ``2026-03-29 02:30`` in Madrid) refuses the
  line (``RejectedInput``, code ``nonexistent_time``). No clock of that zone showed it, so the file is not what the
  layout says (another zone, or a system that ignores summer time): the sender can correct that, and guessing would
  shift every such fact by an hour without a word.
- **A time that happens twice** (the hour repeated in autumn, ``2026-10-25 02:30``) is its **first** occurrence
  (``fold=0``, summer time: zoneinfo's and PEP 495's default). The export cannot say which it meant and its sender
  cannot correct it either: refusing would dead-letter every fact of that hour each October (a card blocked at night
  among them), while the first reading is at most one hour early.
- **A date** read as an instant (an ``occurred_at`` or ``effective_at`` of ``type: date``) is the instant the day
  starts in the zone: its local midnight, or the first instant after a gap that skips midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timezone
from zoneinfo import ZoneInfo

from adapters.base.errors import RejectedInput

NONEXISTENT_TIME = "nonexistent_time"  # the RejectedInput code of a wall-clock time skipped by the clocks


def local_instant(written: datetime, zone: ZoneInfo, name: str) -> datetime:
    """The instant ``written`` (a time read from field ``name``) names in ``zone``: unchanged when it carries a
    zone of its own, its first occurrence when the clocks went back over it; with the fixed UTC offset it had there
    (``08:30+01:00``: the local day is kept, and it compares equal to the same instant in any zone, which PEP 495
    denies a zoneinfo time in a repeated hour). Raises ``RejectedInput`` (``nonexistent_time``) when the clocks went
    forward over it."""
    if written.tzinfo is not None:
        return written
    instant = written.replace(tzinfo=zone, fold=0)
    if instant.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != written:
        raise RejectedInput(
            f"field {name} is {written.isoformat(sep=' ')}, a time that does not exist in {zone.key} (the clocks went "
            "forward over it): the export is not written in that zone's wall-clock time, or its clock is wrong; "
            "correct the layout's timezone or the export", code=NONEXISTENT_TIME)
    return _fixed(instant)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` starts in ``zone`` (with its fixed UTC offset there): local midnight, or the end of a gap
    over it."""
    return _fixed(datetime.combine(day, time(), tzinfo=zone).astimezone(UTC).astimezone(zone))


def _fixed(instant: datetime) -> datetime:
    offset = instant.utcoffset()
    assert offset is not None  # an aware time
    return instant.replace(tzinfo=timezone(offset), fold=0)
