"""The libraries' retried transients and routine warnings, lowered to INFO in plain words (``TransientErrorsAsInfo``,
a filter of the handler ``bus.logging.configure_logging`` sets up). The rest of the logging set-up: ``bus/logging.py``;
repeated lines folded: ``bus/log_repeats.py``; record contents written as their size: ``bus/log_content.py``.
"""

from __future__ import annotations

import logging
from typing import Any

# aiokafka logs at ERROR what is a normal transient while a consumer group starts: the broker answers the
# coordinator look-up with error 15 until its offsets topic exists and a coordinator is elected, and aiokafka
# retries (aiokafka/consumer/group_coordinator.py, ``ensure_coordinator_known``). Seen on every first start.
TRANSIENT_LIBRARY_ERRORS = frozenset({
    ("aiokafka.consumer.group_coordinator", "Group Coordinator Request failed: %s",
     "GroupCoordinatorNotAvailableError"),
})


# Library WARNINGs of a healthy, busy process (new-user finding #12: "a new user thinks something broke"):
# (logger, template) -> the line said plainly. What they are about is watched by Omnibus itself: a coordinator
# that does not come back shows as consumer lag (processors/readiness.py, bus/lag_watchdog.py); an event loop
# too busy for its timers as commit and lag stalls (bus/commit_watchdog.py, bus/lag_watchdog.py).
ROUTINE_LIBRARY_WARNINGS = {
    # aiokafka/consumer/group_coordinator.py ``coordinator_dead``: a request to the coordinator failed or timed out,
    # and the client looks it up again (its template lacks a space before "for").
    ("aiokafka.consumer.group_coordinator", "Marking the coordinator dead (node %s)for group %s."):
        "Looking up the group coordinator again (node %s stopped answering) for group %s",
    # mode/timers.py ``Timer.tick``: a periodic task ran longer than its interval (a loaded machine).
    ("mode.timers", "Timer %s is overlapping (interval=%r runtime=%r)"):
        "Timer %s ran longer than its interval (interval=%r runtime=%r): the machine is busy",
}


class TransientErrorsAsInfo(logging.Filter):
    """Lowers the libraries' retried transients (``TRANSIENT_LIBRARY_ERRORS``: logger, template, error class)
    from ERROR to INFO, and their routine warnings (``ROUTINE_LIBRARY_WARNINGS``) from WARNING to INFO in plain
    words; they still go through ``RepeatLimiter`` (one line per window with a count), and a coordinator that
    never comes shows in consumer lag (``processors/readiness.py``) rather than here."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            return True
        plain = ROUTINE_LIBRARY_WARNINGS.get((record.name, record.msg)) if record.levelno == logging.WARNING else None
        if plain is not None:
            record.msg = plain
        elif not (record.levelno == logging.ERROR and any(
            record.name == name and record.msg == template and type(arg).__name__ == error
            for name, template, error in TRANSIENT_LIBRARY_ERRORS for arg in _args(record)
        )):
            return True
        record.levelno, record.levelname, record.transient = logging.INFO, "INFO", True
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)  # a one-shot command hides library INFO


def _args(record: logging.LogRecord) -> tuple[Any, ...]:
    return record.args if isinstance(record.args, tuple) else ()
