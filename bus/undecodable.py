"""Records an operator command left out because they did not decode: the command says so and fails.

A command that reads Avro records (``omnibus offers list``, ``deadletters list``, ``identity review list``,
``topics read``, reports) skips a record whose value does not decode with the schemas it can reach, and answers
with the rest. Read with the wrong registry, or none (``OMNIBUS_REGISTRY__URL`` unset), every record is skipped:
``offers list`` answered "0 offer(s)" with 7 live and ``deadletters list`` "0 dead letter(s)" with 4, exit 0
(tester15 F10). The readers (``bus.replay.replay_topic``, ``processors.replay.read_topics``) note what they skipped
here; after the command's answer, the ``omnibus`` command (``omnibus.cli``) writes one ``error:`` line on stderr
with the counts per topic and the registry used, and exits ``UNDECODABLE_EXIT`` (a command that ends with a
status of its own keeps it, and writes the line too). ``topics read`` prints such a record as a line of its own
(``{"undecodable": "<N bytes>"}``) and notes it ``shown=True``: the line says so (tester19 F21: it said "left out").
"""

from __future__ import annotations

from collections import Counter

UNDECODABLE_EXIT = 65  # EX_DATAERR of BSD's sysexits.h: the input data was not what it should be

_skipped: Counter[str] = Counter()
_registries: set[str | None] = set()
_shown: set[str] = set()  # topics whose undecodable records the answer prints by their size


def note(topic: str, registry_url: str | None, count: int = 1, *, shown: bool = False) -> None:
    """``count`` records of ``topic`` did not decode with the schemas of ``registry_url`` (None: registry-free);
    ``shown``: the answer prints them by their size rather than leaving them out."""
    _skipped[topic] += count
    _registries.add(registry_url)
    if shown:
        _shown.add(topic)


def reset() -> None:
    """Forget what was noted (each command starts afresh: tests run several in one process)."""
    _skipped.clear()
    _registries.clear()
    _shown.clear()


def skipped_message() -> str | None:
    """The ``error:`` line's text for what was noted, or None when every record decoded."""
    if not _skipped:
        return None
    counts = ", ".join(f"{topic}: {count}" for topic, count in sorted(_skipped.items()))
    urls = sorted(url for url in _registries if url)
    used = f"the schemas of the registry at {', '.join(urls)}" if urls else \
        "no schema registry (OMNIBUS_REGISTRY__URL is unset: registry-free mode)"
    if not _shown:
        fate = "are left out of this answer"
    elif _shown >= set(_skipped):
        fate = "are shown only by their size in this answer"
    else:
        fate = "are left out of this answer or shown only by their size"
    return (f"{sum(_skipped.values())} record(s) did not decode with {used} and {fate} "
            f"({counts}); set OMNIBUS_REGISTRY__URL to the registry they were written with")


def exit_if_skipped() -> None:
    """After a command's answer: ``error: <skipped_message>`` on stderr and exit ``UNDECODABLE_EXIT`` when records
    were skipped; nothing otherwise."""
    message = skipped_message()
    if message is not None:
        from bus.bootstrap import exit_with_message

        reset()
        exit_with_message(message, UNDECODABLE_EXIT)


def report_if_skipped() -> None:
    """When a command ends another way (an exit status of its own: ``handoffs reconcile`` found something):
    ``error: <skipped_message>`` on stderr when records were skipped and not reported yet; its status is kept."""
    message = skipped_message()
    if message is not None:
        from bus.bootstrap import write_error

        reset()
        write_error(message)
