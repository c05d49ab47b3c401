"""Back-office handoff tracking: one owner at a time, deadlines in working hours, escalation, nothing lost.

The rules live in plain modules (``transitions``, ``deadlines``, ``calendar``, ``report``, ...); ``agent``
is the thin faust shell that feeds them records and clock ticks.
"""
