"""Branch-counter adapter: counter terminals and queue-ticket machines -> canonical events.

``ingress`` takes batch uploads (``POST /v1/counter/events``) from terminals, usually through the
store-and-forward ``agent`` running on each terminal; ``mapper`` turns ticket and transaction events
into QueueTicketChanged, CounterTransaction, InteractionRecorded and IdentifiersObserved; ``errors``
is the policy.
"""
