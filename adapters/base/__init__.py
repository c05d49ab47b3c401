"""What every channel adapter shares: the envelope, the publisher that acks only after Kafka did,
dedupe on the source's own ids, the error policy, the HTTP plumbing, the checks of untrusted values
(``wire``, ``clock``) and the one ingest step and resumable loop (``ingest``, ``resumable``).

An adapter folder always has the same role-named parts, so a reader finds the same thing in the same
place in each: ``config.py`` (settings), ``mapper.py`` (pure functions: native record → events),
``ingress.py`` (HTTP, files, a database or a terminal agent) and ``errors.py`` (what is retried, what
is dead-lettered, what stops the adapter).
"""
