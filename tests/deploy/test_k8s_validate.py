"""Every overlay validates offline: core kinds against the Kubernetes schemas (kubernetes-validate),
custom resources against their operators' published CRDs (tests/deploy/crds, sources in SOURCES.md),
and the parts fit together (users, probes, budgets, scrape targets, autoscaling)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bus.topics import TopicSpec
from deploy.kafka_resources import components, topic_settings, user_name
from tests.deploy.kustomize import OVERLAYS, build, of_kind, workloads

CRDS = Path(__file__).with_name("crds")
KUBERNETES_VERSION = "1.32"
CUSTOM_GROUPS = ("kafka.strimzi.io/", "monitoring.coreos.com/", "keda.sh/")


def strict(schema: Any) -> Any:
    """An openAPIV3Schema that refuses unknown fields, as the API server's pruning would drop them silently."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if isinstance(schema.get("pattern"), str) and "(?i)" in schema["pattern"]:  # Go allows the flag mid-pattern
            schema["pattern"] = "(?i)" + schema["pattern"].replace("(?i)", "")
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(item) for item in schema]
    return schema


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict]:
    """``{(apiVersion, kind): schema}`` for every served version of every stored CRD."""
    found = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                found[(f"{group}/{version['name']}", kind)] = strict(version["schema"]["openAPIV3Schema"])
    return found


def documents() -> list[tuple[str, dict]]:
    return [(overlay, doc) for overlay in OVERLAYS for doc in build(overlay)]


def doc_id(item: tuple[str, dict]) -> str:
    overlay, doc = item
    return f"{overlay}:{doc['kind']}/{doc['metadata']['name']}"


@pytest.mark.parametrize("item", [d for d in documents() if not d[1]["apiVersion"].startswith(CUSTOM_GROUPS)],
                         ids=doc_id)
def test_core_kinds_validate_against_the_kubernetes_schemas(item: tuple[str, dict]) -> None:
    kubernetes_validate.validate(item[1], KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("item", [d for d in documents() if d[1]["apiVersion"].startswith(CUSTOM_GROUPS)], ids=doc_id)
def test_custom_resources_validate_against_their_crds(item: tuple[str, dict]) -> None:
    doc = item[1]
    schema = crd_schemas().get((doc["apiVersion"], doc["kind"]))
    assert schema is not None, f"no stored CRD serves {doc['apiVersion']} {doc['kind']}"
    jsonschema.validate(doc, schema)


def test_a_typo_in_a_custom_resource_is_caught() -> None:
    topic = next(doc for _, doc in documents() if doc["kind"] == "KafkaTopic")
    broken = {**topic, "spec": {**topic["spec"], "replica": 3}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, crd_schemas()[(topic["apiVersion"], "KafkaTopic")])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_uses_its_own_kafka_user(overlay: str) -> None:
    docs = build(overlay)
    users = {doc["metadata"]["name"] for doc in of_kind(docs, "KafkaUser")}
    assert users == {user_name(component) for component in components()}
    for workload in workloads(docs):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            env = {item["name"]: item for item in container.get("env", [])}
            username = env["OMNIBUS_KAFKA__SASL_USERNAME"]["value"]
            assert username in users, workload["metadata"]["name"]
            secret = env["OMNIBUS_KAFKA__SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
            assert secret == {"name": username, "key": "password"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_has_requests_a_budget_and_a_scraped_service(overlay: str) -> None:
    docs = build(overlay)
    budgets = [doc["spec"]["selector"]["matchLabels"] for doc in of_kind(docs, "PodDisruptionBudget")]
    services = {doc["metadata"]["name"]: doc for doc in of_kind(docs, "Service")}
    (monitor,) = of_kind(docs, "ServiceMonitor")
    for workload in workloads(docs):
        name, pod = workload["metadata"]["name"], workload["spec"]["template"]
        labels = pod["metadata"]["labels"]
        assert any(selector.items() <= labels.items() for selector in budgets), f"{name} has no PodDisruptionBudget"
        for container in pod["spec"]["containers"]:
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), name
        service = services[name]
        assert service["spec"]["selector"].items() <= labels.items()
        assert "metrics" in {port["name"] for port in service["spec"]["ports"]}
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_processors_are_ready_only_when_they_own_their_partitions(overlay: str) -> None:
    for workload in workloads(build(overlay)):
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        if container["args"][0] in ("identity", "handoffs", "kpis", "offers"):
            assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
            assert container["livenessProbe"]["httpGet"]["path"] == "/live"
        elif container["args"][-1] == "run":  # HTTP adapters
            assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"


def test_autoscaling_watches_each_processors_own_consumer_group() -> None:
    docs = build("prod")
    settings = topic_settings()
    targets = {doc["metadata"]["name"]: doc for doc in workloads(docs)}
    for scaled in of_kind(docs, "ScaledObject"):
        target = targets[scaled["spec"]["scaleTargetRef"]["name"]]
        assert scaled["spec"]["scaleTargetRef"]["kind"] == target["kind"]
        username = target["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"]
        access = components()[username.removeprefix("omnibus-")]
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["type"] == "kafka" and trigger["metadata"]["consumerGroup"] == f"{settings.prefix}.{access.app}"
        assert scaled["spec"]["maxReplicaCount"] <= settings.partitions


# Packages that are never deployed: the single-writer baseline exists for #9's benchmark only.
NOT_DEPLOYED = ("processors.identity.baseline",)


def topics_named_in(package_name: str) -> set[str]:
    """Suffixes of every ``TopicSpec`` a deployed module of the package imports or declares."""
    named: set[str] = set()
    package = importlib.import_module(package_name)
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
        if not module.name.endswith("__main__") and not module.name.startswith(NOT_DEPLOYED):
            found = vars(importlib.import_module(module.name)).values()
            named |= {value.suffix for value in found if isinstance(value, TopicSpec)}
    return named


@pytest.mark.parametrize("processor", ["identity", "handoffs", "kpis", "offers"])
def test_a_processors_kafka_user_covers_every_topic_its_code_names(processor: str) -> None:
    access = components()[processor]
    covered = {spec.suffix for spec in (*access.reads, *access.writes)}
    missing = topics_named_in(f"processors.{processor}") - covered
    assert not missing, f"{processor} names {sorted(missing)} without an ACL"


@pytest.mark.parametrize("adapter", ["web", "call_center", "branch", "legacy"])
def test_an_adapters_kafka_user_may_write_every_topic_its_code_names(adapter: str) -> None:
    writes = {spec.suffix for spec in components()[f"adapter-{adapter.replace('_', '-')}"].writes}
    missing = topics_named_in(f"adapters.{adapter}") - writes
    assert not missing, f"adapter {adapter} publishes to {sorted(missing)} without an ACL"
