"""How many workers each processor may run as: the one declaration its code and the deployment checks read.

* ``Workers.SEVERAL``: the processor's state is partitioned like its inputs (every record keyed by what its tables
  are keyed by), so workers of one consumer group share the partitions and scale out up to the partition count:
  identity (the graph re-keyed by node), handoffs (by handoff id, the directory a replica on every worker), kpis
  (co-partitioned inputs, windows summed by the rollup agent).
* ``Workers.ONE``: the processor looks its tables up by any key, so one worker must hold every partition of its
  inputs and tables: offers (customers by id, identifiers, offers by id; ``processors/offers/README.md``,
  "Limits"). A second worker in its consumer group would take half of them (faust has no passive standby: every
  member is an active worker), so ``processors.sole_worker`` makes such a worker process nothing while it holds only
  part of them, and says so. Fail-over is the orchestrator starting the one worker again.

Read by the processors (``processors.offers.agent`` installs the guard) and by ``tests/deploy`` (a processor that
runs as one worker is deployed with ``replicas: 1``, ``strategy: Recreate`` and no autoscaler).
"""

from __future__ import annotations

from enum import Enum


class Workers(Enum):
    ONE = "one worker"
    SEVERAL = "several workers"


# component (the faust app's name, ``bus.app.create_app``; its Deployment is omnibus-<component>) -> workers
PROCESSORS: dict[str, Workers] = {
    "identity": Workers.SEVERAL,
    "handoffs": Workers.SEVERAL,
    "kpis": Workers.SEVERAL,
    "offers": Workers.ONE,
}


def runs_as_one_worker(component: str) -> bool:
    """True when processor ``component`` must run as one worker. KeyError for a processor not declared here."""
    return PROCESSORS[component] is Workers.ONE
