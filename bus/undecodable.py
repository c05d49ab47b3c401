"""Records an operator command left out because they did not decode: the command says so and fails.

A command that reads Avro records (``omnibus offers list``, ``deadletters list``, ``identity review list``,
``topics read``, reports) skips a record whose value does not decode with the schemas it can reach, and answers
with the rest. Read with the wrong registry, or none (``OMNIBUS_REGISTRY__URL`` unset), every record is skipped:
``offers list`` answered "0 offer(s)" with 7 live and ``deadletters list`` "0 dead letter(s)" with 4, exit 0.
The readers (``bus.replay.replay_topic``, ``processors.replay.read_topics``) note what they skipped
here; after the command's answer, the ``omnibus`` command (``omnibus.cli``) writes one ``error:`` line on stderr
with the counts per topic and the registry used, and exits ``UNDECODABLE_EXIT`` (a command that ends with a
status of its own keeps it, and writes the line too). ``topics read`` prints such a record as a line of its own
(``{"undecodable": "<N bytes>"}``) and notes it ``shown=True``: the line says so (it said "left out").

A poison record is different: a value in neither framing Omnibus writes (``bus.serde.framing``;
``DeserializationError.unframed``) was written by a producer outside Omnibus, and no registry setting would decode
it. The processors dead-letter it; a command that meets it leaves it out, names it by topic, partition and offset
in one ``warning:`` line that points at ``omnibus deadletters``, and keeps its own exit status. One such record
on ``handoff.events.v1`` made every ``omnibus handoffs`` command and ``omnibus verify`` exit 65 for as long as the
topic kept it, with the registry hint, which was not the cause.
"""

from __future__ import annotations

from collections import Counter

from bus.errors import DeserializationError
from bus.plural import counted

UNDECODABLE_EXIT = 65  # EX_DATAERR of BSD's sysexits.h: the input data was not what it should be
POISON_NAMED = 10  # poison records named by their position in the warning line; the others are counted

_skipped: Counter[str] = Counter()
_registries: set[str | None] = set()
_shown: set[str] = set()  # topics whose undecodable records the answer prints by their size
_poison: list[tuple[str, int | None, int | None]] = []  # (topic, partition, offset) of each poison record
_poison_shown: list[bool] = []  # whether the answer printed it by its size, in the order of ``_poison``


def note(topic: str, registry_url: str | None, count: int = 1, *, shown: bool = False) -> None:
    """``count`` records of ``topic`` did not decode with the schemas of ``registry_url`` (None: registry-free);
    ``shown``: the answer prints them by their size rather than leaving them out."""
    _skipped[topic] += count
    _registries.add(registry_url)
    if shown:
        _shown.add(topic)


def note_error(error: DeserializationError, registry_url: str | None, *, shown: bool = False) -> None:
    """What a reader notes for a record that did not decode: a poison record (``error.unframed``) by its position
    (``note_poison``), any other by its topic (``note``, with the registry hint)."""
    record = error.record
    topic = record.topic or "?"
    if error.unframed:
        note_poison(topic, record.partition, record.offset, shown=shown)
    else:
        note(topic, registry_url, shown=shown)


def note_poison(topic: str, partition: int | None, offset: int | None, *, shown: bool = False) -> None:
    """The record at ``partition``/``offset`` of ``topic`` is in no framing Omnibus writes (module docstring)."""
    _poison.append((topic, partition, offset))
    _poison_shown.append(shown)


def reset() -> None:
    """Forget what was noted (each command starts afresh: tests run several in one process)."""
    _skipped.clear()
    _registries.clear()
    _shown.clear()
    _poison.clear()
    _poison_shown.clear()


def poison_message() -> str | None:
    """The ``warning:`` line's text for the poison records noted, or None when there were none."""
    if not _poison:
        return None
    named = ", ".join(f"{topic} partition {partition} offset {offset}"
                      for topic, partition, offset in _poison[:POISON_NAMED])
    more = f" and {len(_poison) - POISON_NAMED} more" if len(_poison) > POISON_NAMED else ""
    if not any(_poison_shown):
        fate = "left out of this answer"
    elif all(_poison_shown):
        fate = "shown only by their size in this answer"
    else:
        fate = "left out of this answer or shown only by their size"
    return (f"{counted(len(_poison), 'record')} in no wire format Omnibus writes (written by a producer outside "
            f"Omnibus) are {fate}: {named}{more}; the processors dead-letter such records: omnibus deadletters list")


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
    return (f"{counted(sum(_skipped.values()), 'record')} did not decode with {used} and {fate} "
            f"({counts}); set OMNIBUS_REGISTRY__URL to the registry they were written with")


def warn_poison() -> None:
    """``warning: <poison_message>`` on stderr when poison records were noted and not reported yet."""
    message = poison_message()
    if message is not None:
        from bus.bootstrap import write_warning

        _poison.clear()
        _poison_shown.clear()
        write_warning(message)


def exit_if_skipped() -> None:
    """After a command's answer: the poison records' warning (``warn_poison``), then ``error: <skipped_message>``
    on stderr and exit ``UNDECODABLE_EXIT`` when records were skipped; nothing otherwise."""
    warn_poison()
    message = skipped_message()
    if message is not None:
        from bus.bootstrap import exit_with_message

        reset()
        exit_with_message(message, UNDECODABLE_EXIT)


def report_if_skipped() -> None:
    """When a command ends another way (an exit status of its own: ``handoffs reconcile`` found something):
    the poison records' warning, and ``error: <skipped_message>`` on stderr when records were skipped and not
    reported yet; its status is kept."""
    warn_poison()
    message = skipped_message()
    if message is not None:
        from bus.bootstrap import write_error

        reset()
        write_error(message)
