"""Every processor is deployed as ``processors/scaling.py`` declares it: one that runs as one worker with one replica,
``Recreate`` and no autoscaler, in every overlay (tester49 F2: offers ran with ``replicas: 2`` in prod)."""

from __future__ import annotations

import pytest

from processors.scaling import PROCESSORS, Workers, runs_as_one_worker
from tests.deploy.kustomize import OVERLAYS, build, of_kind

WORKLOADS = ("Deployment", "StatefulSet")
PREFIX = "processor-"  # the label app.kubernetes.io/component of a processor's pods: processor-<component>


def processor_workloads(overlay: str) -> dict[str, dict]:
    """``{component: its Deployment or StatefulSet}`` of ``overlay``'s processors."""
    found = {}
    for doc in of_kind(build(overlay), *WORKLOADS):
        label = doc["metadata"]["labels"].get("app.kubernetes.io/component", "")
        if label.startswith(PREFIX):
            found[label.removeprefix(PREFIX)] = doc
    return found


def autoscaled(overlay: str) -> set[tuple[str, str]]:
    """``(kind, name)`` of every workload a KEDA ``ScaledObject`` or a ``HorizontalPodAutoscaler`` scales."""
    return {(doc["spec"]["scaleTargetRef"]["kind"], doc["spec"]["scaleTargetRef"]["name"])
            for doc in of_kind(build(overlay), "ScaledObject", "HorizontalPodAutoscaler")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployed_processor_declares_how_many_workers_it_runs_as(overlay: str) -> None:
    assert sorted(processor_workloads(overlay)) == sorted(PROCESSORS)


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("component", [name for name, workers in PROCESSORS.items() if workers is Workers.ONE])
def test_a_one_worker_processor_never_runs_two_pods(overlay: str, component: str) -> None:
    workload = processor_workloads(overlay)[component]
    spec, name = workload["spec"], workload["metadata"]["name"]
    assert spec.get("replicas", 1) == 1, f"{name} must run one worker (processors/scaling.py)"
    # a rolling update starts the new pod before it stops the old one: two workers for a while
    if workload["kind"] == "Deployment":
        assert spec.get("strategy", {}).get("type") == "Recreate", f"{name}: strategy Recreate"
    assert (workload["kind"], name) not in autoscaled(overlay), f"{name} must not be autoscaled"


def test_offers_is_declared_to_run_as_one_worker_and_the_others_to_scale_out() -> None:
    assert runs_as_one_worker("offers")
    assert not any(runs_as_one_worker(name) for name in ("identity", "handoffs", "kpis"))


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("component", [name for name, workers in PROCESSORS.items() if workers is Workers.SEVERAL])
def test_a_scaled_out_processor_tells_the_other_workers_its_pod_address(overlay: str, component: str) -> None:
    """Workers of one group call each other at ``OMNIBUS_WEB__HOST`` (identity's lookups routed to the owner, a KPI
    query's windows fetched from their owners): left at its default 127.0.0.1, every pod names the same address and
    none reaches another (kpis49: ``/kpis`` answered ``partial`` naming the setting)."""
    workload = processor_workloads(overlay)[component]
    container = workload["spec"]["template"]["spec"]["containers"][0]
    host = next((env for env in container.get("env", []) if env["name"] == "OMNIBUS_WEB__HOST"), None)
    assert host == {"name": "OMNIBUS_WEB__HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}, \
        f"{workload['metadata']['name']}: OMNIBUS_WEB__HOST from the pod's IP"
