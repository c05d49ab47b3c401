"""Error policy of the legacy-systems adapter (on top of ``adapters.base.errors``).

- A record that cannot become a business event (unknown event type, a missing or malformed field) is
  ``RejectedInput``: it is dead-lettered with its reason and *marked done* (outbox row stamped with
  ``refused_reason``, poller position and file checkpoint moved past it): one bad row never stalls the
  rows behind it.
- Kafka not acknowledging is ``Unavailable``: nothing is marked, the same rows are read again on the
  next round (their ids are deduped), and the loop retries after ``retry_after_s``.
- A database that cannot be reached (``psycopg.OperationalError``) is retried the same way; a layout
  file that does not describe the file (``LayoutError``), or bad settings, stop the adapter: retrying
  cannot fix them.
"""

from __future__ import annotations

from adapters.base.errors import RejectedInput, Unavailable
from bus.errors import OmnibusError

__all__ = ["LayoutError", "NoHeaderLine", "RejectedInput", "Unavailable"]


class LayoutError(OmnibusError):
    """A batch layout file is invalid, or the file does not match it (fatal: fix the layout)."""



class NoHeaderLine(LayoutError):
    """A file read with a layout that has a header has none: it is empty, or its first line is blank. What a failed
    export looks like, not a layout that is wrong: ``import-batch`` imports nothing of it and exits 3, not 2."""
