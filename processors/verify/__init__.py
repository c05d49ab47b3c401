"""``omnibus verify``: after a run (or a fault), check from the topics that nothing was lost or written wrong.

The checks, each a pure function of records read back from the broker (``processors.replay.Replayed``),
so unit tests can hand them crafted inputs:

* ``ledger``: the run's *input ledger* — the events the adapters acknowledged. By default it is every
  record that decodes on the processors' input topics (an acknowledged event is on its topic by
  definition); a test or an operator can also hand a JSONL file of the event ids it was answered 2xx
  for (``omnibus verify --ledger FILE``), and every one of them must then be found on an input topic.
* ``identity``: every identifier of an accepted input is assigned on ``customer.identifiers.v1`` as the plain
  recomputation assigns it (operators' releases, merges, splits and unmerges replayed where the processor applied
  them, from their announcements on ``customer.events.v1``: ``processors.replay.operators``); no current row names a
  merged-away customer (reader rule: ``processors.identity.assignments``); the node table's changelog equals the
  recomputation, after joining what the running processor's reviews link (``processors.verify.reviews``): a group that
  differs only there is a note, "awaiting review" where an open review on ``identity.reviews.v1`` links two of the
  table's customers, else "decided by an operator" (a decided review); any other difference fails, counted per
  direction in the figures (``reviews.TOGETHER_RECOMPUTED``, ``reviews.TOGETHER_IN_TABLE``), except a group where a
  per-customer limit, the shared-identifier threshold or a match weight decided on each side that keeps customers
  apart (the table's side announced), which can depend on arrival order: a note, counted in
  ``arrival_order.ARRIVAL_ORDER`` (``processors.verify.arrival_order``). The recomputation's own review requests
  excuse nothing on their own: no operator can decide them. A customer an operator split off is named, in the
  table, by every shared identifier the recomputation keeps its identifiers' customer apart through
  (``processors.verify.split_sharing``, the flat's landline counted the split-off tenant "without a
  customer of their own").
* ``contacts`` (with ``identity``): every contact the recomputation resolves is on ``customer.contacts.v1`` under
  its customer (under the one that held an identifier when the contact occurred, where a release or a claim such as
  a recycled number's moved it since: ``processors.replay.holders``; a housemate's, a claim's, or where an operator
  moved it); every contact on identity's contact input that carried an
  identifier is on ``customer.contacts.v1`` under some customer, resolved by the recomputation or not
  (one without an identifier is a figure, "contacts without an identifier").
* ``contact records`` (with ``identity``): in the running tables, every record of the contacts table is named by its
  customer's contact index (node table) and every entry of an index has its record (a merged-away customer keeps
  neither); a batch restored in part after a rebalance breaks it (``processors.verify.contact_records``; figures
  "contact records without an index entry", "index entries without a contact record").
* ``handoffs``: every accepted handoff event is reflected in the tracker's table; the table's changelog
  equals the recomputation from ``handoff.events.v1`` (``processors.replay.handoffs``); each handoff identity placed
  (its ``HandoffCreated`` on ``customer.contacts.v1``) is on that customer in the tracker's table and in its latest
  ``HandoffRouted``/``HandoffStatusChanged``, through every merge, whatever its status: the tracker follows a
  resolved or closed case too (figure "handoffs on another customer than identity's placement";
  ``processors.verify.placement``).
* ``placement`` (with ``identity``): every event of one contact (the events the adapters mapped from one call, visit
  or message share ``envelope.correlation_id``) stands on one customer on ``customer.contacts.v1``, a copy identity
  re-published under another customer counting for its original (figure "contacts on more than one customer").
  Both read identity's placement as the tracker's directory does (``processors.verify.placement``).
* ``effects``: records with the same event id carry the same content (a duplicate a reader drops), and
  one decision (a customer created, a customer merged away) has one event id.

The table-versus-recomputation checks are the method of Kafka Streams' exactly-once system test: rebuild
the state with the plain logic from the input log and compare it with the changelog's last values.
"""
