"""How long the texts of a request to hand a case to the back office may be, whichever path opens it.

A channel's request (``adapters.base.handoff_request``: a contact's or task's ``omnibus_handoff_*`` attributes, a
counter event's ``handoff``; its follow-up, ``adapters.base.handoff_follow_up``) and a case an operator opens by hand
from a dead letter (``processors.deadletters.manual_case``, plumbing that imports no adapter) take the same lengths:
one declaration here, imported by both. Omnibus' own limits (no standard sets them): a kind is a short slug the
tracker's policy matches (``HandoffCreated.case_type``, e.g. ``line-repair``), a team a name, a summary a few lines
an agent typed. Counted in characters of the text without its surrounding spaces.
"""

from __future__ import annotations

MAX_CASE_ID_CHARS = 128  # a case id the front line names itself (a portal's ``request_id``): the handoff id and key
MAX_KIND_CHARS = 64  # ``HandoffCreated.case_type``
MAX_TEAM_CHARS = 64  # the team the front line asked for (``intake_facts["requested_team"]``)
MAX_SUMMARY_CHARS = 1000  # ``HandoffCreated.summary``, and a follow-up's summary
