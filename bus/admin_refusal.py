"""Which refusals of a topic's creation (CreateTopics, CreatePartitions) mean "the cluster cannot place replicas
right now" — tried again like an outage — and which mean the request itself is wrong.

Kafka answers CreateTopics with one code, ``INVALID_REPLICATION_FACTOR`` (38, "Replication factor is below 1 or
larger than the number of available brokers", ``org.apache.kafka.common.protocol.Errors``), both for a request that
can never succeed and for a cluster that has no broker to place a replica on *for now*; Kafka's own clients treat
it as not retriable. Its message tells the two apart (``StripedReplicaPlacer`` and ``ReplicationControlManager`` in
Kafka's metadata module, 3.x to 4.4):

* ``All brokers are currently fenced`` (4.x adds ``, or have all their log directories cordoned``; for an explicit
  assignment ``... fenced or in controlled shutdown``): in KRaft (KIP-631) a broker holds a lease on the active
  controller that lasts ``broker.session.timeout.ms`` (9 s by default) and is renewed by a heartbeat every
  ``broker.heartbeat.interval.ms`` (2 s). A broker that missed its heartbeats for the whole lease — a GC pause, a
  starved CPU, a rolling restart's controlled shutdown — is fenced: it stays registered but takes no new replicas
  until its next heartbeat unfences it. CI's single-node broker, starved on 2 cores by 50 counter agents, fenced
  itself and the identity worker's changelog declaration ended the worker at start (status 1).
* ``The target replication factor of N cannot be reached because only M broker(s) are registered`` (KRaft) or
  ``Replication factor: N larger than available brokers: M`` (ZooKeeper mode, where a restarting broker leaves the
  list): fewer brokers than the replication factor, as while a cluster's brokers register one by one at its start
  or a broker restarts; also a replication factor the cluster can never meet, which the warning names at the first
  refusal and the final error after the give-up time.
* ``Invalid replication factor 0: the replication factor must be positive``: the request is wrong; never retried.

The other answers of a cluster in that state are retriable already (``aiokafka.errors``: ``NOT_CONTROLLER`` 41,
``REQUEST_TIMED_OUT`` 7 when the controller did not commit in time, ``LEADER_NOT_AVAILABLE`` 5), except
``BROKER_NOT_AVAILABLE`` (8, "The broker is not available"), which aiokafka marks not retriable and which is a broker
away for now, so it is tried again here too. faust turns ``NOT_CONTROLLER`` into a plain ``RuntimeError("Invalid
controller: N")``; ``bus.declared_topics`` gives it its Kafka type back (``not_controller``).

``transient_reason`` names the reason (no topic or identifier value in it) for the retry's warning;
``bus.publish_retry`` tries such an error again with its backoff for up to ``producer.give_up_after_s`` and then
raises ``ClusterRefused`` with that reason.
"""

from __future__ import annotations

from aiokafka.errors import BrokerNotAvailableError, InvalidReplicationFactorError, NotControllerError

from bus.errors import OmnibusError

FENCED = "every broker is fenced (missed its heartbeats to the controller) or in controlled shutdown"
TOO_FEW = "fewer brokers are registered than the replication factor (brokers starting or restarting?)"
NO_BROKER = "the broker is not available"
NOT_CONTROLLER = "the request reached a node that is not the active controller"

_FENCED_WORDS = ("are currently fenced",)
_TOO_FEW_WORDS = ("broker(s) are registered", "larger than available brokers")
_FAUST_NOT_CONTROLLER = "Invalid controller"  # faust's words for NOT_CONTROLLER (transport.drivers.aiokafka)


class ClusterRefused(OmnibusError):
    """Kafka refused a topic's creation for a transient reason (``transient_reason``) for longer than the give-up
    time. ``reason``: that reason; ``seconds``: how long it was tried."""

    retriable = False  # given up: the caller's old handling (a stopped worker, a failed command) applies

    def __init__(self, what: str, reason: str, seconds: float, error: BaseException) -> None:
        super().__init__(f"Kafka refused to {what} for {seconds:.0f} s: {reason}. Last answer: {error}. Check the "
                         "brokers' health (fenced brokers log missed heartbeats) and that the topics' replication "
                         "factor (OMNIBUS_TOPICS__REPLICATION_FACTOR) is at most the number of brokers")
        self.reason, self.seconds = reason, seconds


def transient_reason(error: BaseException) -> str | None:
    """Why the cluster refused ``error``'s request for now (one of ``FENCED``, ``TOO_FEW``, ``NO_BROKER``,
    ``NOT_CONTROLLER``); None when ``error`` is not such a refusal (the request is wrong, or it is another error)."""
    if isinstance(error, InvalidReplicationFactorError):
        text = str(error)
        if any(words in text for words in _FENCED_WORDS):
            return FENCED
        if any(words in text for words in _TOO_FEW_WORDS):
            return TOO_FEW
        return None
    if isinstance(error, BrokerNotAvailableError):
        return NO_BROKER
    if isinstance(error, NotControllerError):
        return NOT_CONTROLLER
    return None


def not_controller(error: BaseException) -> NotControllerError | None:
    """faust's ``RuntimeError("Invalid controller: N")`` (its CreateTopics answered ``NOT_CONTROLLER``) as Kafka's
    ``NotControllerError``; None for any other error."""
    if type(error) is RuntimeError and str(error).startswith(_FAUST_NOT_CONTROLLER):
        return NotControllerError(str(error))
    return None
