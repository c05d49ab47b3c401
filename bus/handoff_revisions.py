"""A case opened from a source record that has versions: the intake fact that names the record.

A legacy ticket table's row is polled again each time it is updated (``adapters.legacy.ingress_poller``), and a
keyed batch line is published again once it changed (``adapters.legacy.revisions``): each version is a fact of its
own (its own event id, so a re-read version is a copy), but every version is the same case. The legacy adapter names
the case after the record (``adapters.legacy.handoffs.legacy_handoff_id`` of the record's key, not of its version)
and writes that record's id in the ``HandoffCreated``'s ``intake_facts[SOURCE_RECORD_FACT]``. A branch counter's
transaction is such a record too: a corrected upload (same terminal and transaction id, a new ``event_id`` or other
content) gets event ids of its own under the case ``counter:<terminal>:<transaction id>``
(``adapters.branch.mapper``), which names itself as its source record; so does a call's case
``call:<system>:<contact id>`` (``adapters.call_center.mapper``: a CTR updated in after-contact work with another
summary, team or facts). The tracker
(``processors.handoffs.revisions``) reads a ``HandoffCreated`` under a handoff id it holds whose case names the same
source record as a later version of that case (a copy when nothing it describes changed, else a revision), never as
a second creation (``duplicate_creation``). One declaration, imported by both: neither imports the other.
"""

from __future__ import annotations

# intake_facts key: ``legacy:<source system>:<record key>``, e.g. ``legacy:billing-db:poll:tickets:T-1``, the
# counter's ``counter:<terminal>:<transaction id>`` or a call's ``call:<source system>:<contact id>``
SOURCE_RECORD_FACT = "source_record"
# intake_facts key: the version's instant (ISO 8601, UTC) where the source orders its versions (a polled row's
# ``updated_at``, a counter transaction's ``occurred_at``, a CTR's ``LastUpdateTimestamp``): an older version
# arriving after a newer one (a refused row or upload re-driven after the newer was applied) changes nothing; one
# stating the same instant is taken in arrival order. Not a change of the case itself: two versions differing only
# in it are copies.
SOURCE_VERSION_FACT = "source_version"
