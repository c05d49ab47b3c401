"""``omnibus counter-agent``: the store-and-forward client that runs on a counter terminal.

The terminal's software appends each event to a local SQLite ``journal`` (WAL, ``synchronous=FULL``:
the append returns only after the event is on disk) with a client-assigned event id. The ``uploader``
sends unsent events in journal order, in batches, to the branch adapter, backing off (exponentially,
with jitter, capped) while it is unreachable, and marks them sent only after a 2xx. A crash between the
adapter's 2xx and the mark re-sends the batch, and the adapter drops what it already published (it
dedupes on terminal id + event id): after ``kill -9`` or days offline nothing is lost or duplicated.
"""

COMPONENT = "counter-agent"  # the component its log lines name (``bus.logging``)
# Its commands that run until stopped -> their component (``bus.early_stop``): ``counter-agent run``.
RUNS_UNTIL_STOPPED: dict[tuple[str, ...], str] = {("run",): COMPONENT}
