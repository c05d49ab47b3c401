"""The NetworkPolicies admit what docs/subscribers.md#who-may-call-what says, and nothing else (tester24 F12: the screen
pop, the offers query and Kafka answered any pod in the cluster).

The policies of each built overlay are evaluated here as the API defines them (networking.k8s.io/v1): a pod selected by
no policy admits everything; a selected pod admits a connection when one rule of one selecting policy admits both the
peer and the port (named ports resolved to the container's ports).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.deploy.kustomize import OVERLAYS, build, of_kind, workloads

KAFKA_CLIENT_PORT = 9093  # the TLS listener of OMNIBUS_KAFKA__BOOTSTRAP_SERVERS (deploy/k8s/base/config.yaml)
# The peers each overlay declares for the CRM / agent desktop (omnibus-query-clients).
QUERY_CLIENTS = {
    "dev": ({"omnibus.io/query-client": "true"}, {"omnibus.io/query-client": "true"}),
    "prod": ({"kubernetes.io/metadata.name": "crm"}, {"app.kubernetes.io/part-of": "agent-desktop"}),
}
QUERY_SERVICES = ("processor-identity", "processor-offers", "processor-kpis")
HTTP_ADAPTERS = ("adapter-web", "adapter-branch", "adapter-call-center")


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def in_namespace(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace, **self.namespace_labels}


def selects(selector: dict, labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        held = {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}[operator]
        if not held:
            return False
    return True


def peer_admits(peer: dict, source: Pod, namespace: str) -> bool:
    if "ipBlock" in peer:
        return False  # the policies name pods, never addresses
    in_namespace = (selects(peer["namespaceSelector"], source.in_namespace()) if "namespaceSelector" in peer
                    else source.namespace == namespace)
    return in_namespace and selects(peer.get("podSelector", {}), source.labels)


def port_admits(ports: list[dict] | None, target: Pod, port: int) -> bool:
    return not ports or any(item["port"] == port or target.ports.get(item["port"]) == port for item in ports)


def admitted(overlay: str, source: Pod, target: Pod, port: int) -> bool:
    policies = [policy for policy in of_kind(build(overlay), "NetworkPolicy")
                if policy["metadata"]["namespace"] == target.namespace
                and "Ingress" in policy["spec"].get("policyTypes", ["Ingress"])
                and selects(policy["spec"]["podSelector"], target.labels)]
    if not policies:
        return True
    return any((not rule.get("from") or any(peer_admits(peer, source, target.namespace) for peer in rule["from"]))
               and port_admits(rule.get("ports"), target, port)
               for policy in policies for rule in policy["spec"].get("ingress", []))


def namespace(overlay: str) -> str:
    (found,) = {doc["metadata"]["namespace"] for doc in workloads(build(overlay))}
    return found


def omnibus_pods(overlay: str) -> dict[str, Pod]:
    """Component (app.kubernetes.io/component) -> its pod as the workload's template describes it."""
    pods = {}
    for workload in workloads(build(overlay)):
        template = workload["spec"]["template"]
        ports = {port["name"]: port["containerPort"] for container in template["spec"]["containers"]
                 for port in container.get("ports", [])}
        pods[template["metadata"]["labels"]["app.kubernetes.io/component"]] = Pod(
            namespace(overlay), template["metadata"]["labels"], ports)
    return pods


def broker(overlay: str) -> Pod:
    """A broker pod of the Strimzi cluster `omnibus`, with the labels Strimzi gives it."""
    return Pod(namespace(overlay), {"strimzi.io/cluster": "omnibus", "strimzi.io/kind": "Kafka",
                                    "strimzi.io/name": "omnibus-kafka"}, {"tcp-clientstls": KAFKA_CLIENT_PORT})


def crm(overlay: str) -> Pod:
    namespace_labels, labels = QUERY_CLIENTS[overlay]
    return Pod(namespace_labels.get("kubernetes.io/metadata.name", "crm-desk"), labels,
               namespace_labels=namespace_labels)


PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
INGRESS_CONTROLLER = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})


def stranger(overlay: str) -> Pod:
    """Any other pod, here in Omnibus' own namespace (a debug shell, another team's job)."""
    return Pod(namespace(overlay), {"app": "debug-shell"})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_omnibus_pod_is_selected_by_a_policy(overlay: str) -> None:
    for component, pod in omnibus_pods(overlay).items():
        assert not admitted(overlay, stranger(overlay), pod, pod.ports["metrics"]), component


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_declared_crm_reaches_the_query_services_web_port_and_nothing_else(overlay: str) -> None:
    pods, client = omnibus_pods(overlay), crm(overlay)
    for component, pod in pods.items():
        reaches = admitted(overlay, client, pod, pod.ports["http"]) if "http" in pod.ports else False
        assert reaches == (component in QUERY_SERVICES), component
        assert not admitted(overlay, client, pod, pod.ports["metrics"]), component
    assert not admitted(overlay, client, broker(overlay), KAFKA_CLIENT_PORT)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_an_undeclared_pod_does_not_reach_the_screen_pop(overlay: str) -> None:
    identity = omnibus_pods(overlay)["processor-identity"]
    assert not admitted(overlay, stranger(overlay), identity, identity.ports["http"])
    namespace_labels, labels = QUERY_CLIENTS[overlay]
    elsewhere = Pod("crm-desk-test", labels, namespace_labels={"team": "crm"})  # right pod, undeclared namespace
    assert not admitted(overlay, elsewhere, identity, identity.ports["http"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_scrapes_every_metrics_port_and_only_that(overlay: str) -> None:
    for component, pod in omnibus_pods(overlay).items():
        assert admitted(overlay, PROMETHEUS, pod, pod.ports["metrics"]), component
        if "http" in pod.ports:
            assert not admitted(overlay, PROMETHEUS, pod, pod.ports["http"]), component


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_adapters_take_requests_from_the_ingress_controller_only(overlay: str) -> None:
    for component, pod in omnibus_pods(overlay).items():
        if "http" in pod.ports:
            assert admitted(overlay, INGRESS_CONTROLLER, pod, pod.ports["http"]) == (component in HTTP_ADAPTERS)
    web = omnibus_pods(overlay)["adapter-web"]
    assert not admitted(overlay, stranger(overlay), web, web.ports["http"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_omnibus_pods_reach_each_other_and_kafka(overlay: str) -> None:
    pods = omnibus_pods(overlay)
    identity = pods["processor-identity"]
    assert admitted(overlay, identity, identity, identity.ports["http"])  # a lookup forwarded to the key's owner
    for component, pod in pods.items():
        assert admitted(overlay, pod, broker(overlay), KAFKA_CLIENT_PORT), component


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_omnibus_and_keda_reach_kafka(overlay: str) -> None:
    keda = Pod("keda", {"app": "keda-operator"})
    assert admitted(overlay, keda, broker(overlay), KAFKA_CLIENT_PORT)
    for outsider in (stranger(overlay), crm(overlay), PROMETHEUS, INGRESS_CONTROLLER):
        assert not admitted(overlay, outsider, broker(overlay), KAFKA_CLIENT_PORT), outsider
