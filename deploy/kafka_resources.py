"""Strimzi ``KafkaTopic`` and ``KafkaUser`` resources, generated from the topic registry (``bus/topics.py``).

Topics: one ``KafkaTopic`` per ``TopicSpec`` in ``ALL_TOPICS``, with the prefix, default partition count
and replication factor of the deployment's ConfigMap (``deploy/k8s/base/config.yaml``) and the spec's
clean-up policy and retention. Users: one ``KafkaUser`` per component with SCRAM-SHA-512 and the least
privilege it needs: Describe+Write on the topics it publishes to, Describe+Read on the topics it consumes,
Read on its own consumer group, and, for a faust processor, all operations on the internal topics under
its application id (``<prefix>.<app>-``: table changelogs, the assignor's leader topic). Strimzi writes
each user's password into a Secret named after the user (key ``password``).
Source of the resource formats: the CRDs in tests/deploy/crds (Strimzi ``kafka.strimzi.io/v1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bus.config import TopicSettings
from bus.topics import (
    ALL_TOPICS,
    BUSINESS_EVENTS,
    CONTACT_EVENTS,
    CUSTOMER_CONTACTS,
    CUSTOMER_EVENTS,
    CUSTOMER_IDENTIFIERS,
    DEAD_LETTERS,
    HANDOFF_EVENTS,
    HANDOFF_NOTIFICATIONS,
    HANDOFF_TICKS,
    HANDOFF_TIER_FACTS,
    IDENTIFIERS_OBSERVED,
    IDENTITY_GRAPH,
    IDENTITY_REVIEWS,
    KPI_AGGREGATES,
    KPI_MERGES,
    KPI_PARTIALS,
    KPI_TICKS,
    MARKETING_INSTRUCTIONS_BRANCH,
    MARKETING_INSTRUCTIONS_CALL_CENTER,
    MARKETING_INSTRUCTIONS_EMAIL,
    MARKETING_INSTRUCTIONS_SMS,
    MARKETING_OFFERS,
    MARKETING_RESPONSES,
    MARKETING_SIGNALS,
    TopicSpec,
)

API_VERSION = "kafka.strimzi.io/v1"
CLUSTER = "omnibus"  # the Strimzi Kafka resource's name (label strimzi.io/cluster)
CONFIG_MAP = Path(__file__).resolve().parent / "k8s" / "base" / "config.yaml"


@dataclass(frozen=True, slots=True)
class Access:
    """What one component does on Kafka; ``app`` is the faust application name of a processor; ``group`` the
    consumer group (``<prefix>.<group>``) of a consumer that is no faust processor (an outbound gateway)."""

    writes: tuple[TopicSpec, ...]
    reads: tuple[TopicSpec, ...] = ()
    app: str | None = None
    group: str | None = None


def _identity_reads() -> tuple[TopicSpec, ...]:
    """What the deployed identity worker consumes: the topics of the profile sections the command hands it."""
    from omnibus.cli import Composition
    from processors.identity.agent import input_topics

    return (*input_topics(Composition().profile_book()), IDENTITY_GRAPH)


def components() -> dict[str, Access]:
    """Component name (as in the manifests: ``omnibus-<name>``) -> its Kafka access.

    tests/deploy/test_k8s_validate.py checks that every topic a component's code names is covered.
    """
    from processors.handoffs.agent import APP_NAME as HANDOFFS_APP
    from processors.identity.agent import COMPONENT as IDENTITY_APP
    from processors.kpis.agent import APP_NAME as KPIS_APP
    from processors.kpis.agent import INPUTS as KPI_INPUTS
    from processors.offers.agent import APP_NAME as OFFERS_APP
    from processors.offers.agent import INPUT_TOPICS as OFFER_INPUTS

    # Every contact adapter publishes contacts, the identifiers it saw, offer responses (dispositions) and the
    # handoffs its front line opens (docs/handoffs.md).
    adapter_writes = (CONTACT_EVENTS, IDENTIFIERS_OBSERVED, MARKETING_RESPONSES, HANDOFF_EVENTS, DEAD_LETTERS)
    return {
        "adapter-web": Access(adapter_writes),
        # and the card statuses its contact flows and agents record (CardStatusChanged)
        "adapter-call-center": Access((*adapter_writes, BUSINESS_EVENTS)),
        "adapter-branch": Access(adapter_writes),
        "adapter-legacy": Access((BUSINESS_EVENTS, IDENTIFIERS_OBSERVED, HANDOFF_EVENTS, DEAD_LETTERS)),
        "identity": Access(
            (CUSTOMER_EVENTS, CUSTOMER_IDENTIFIERS, CUSTOMER_CONTACTS, IDENTITY_REVIEWS, IDENTITY_GRAPH, DEAD_LETTERS),
            _identity_reads(), app=IDENTITY_APP),
        "handoffs": Access(  # the tier facts, identifiers and placements are also read group-less (directory_feed.py)
            (HANDOFF_EVENTS, HANDOFF_NOTIFICATIONS, HANDOFF_TICKS, HANDOFF_TIER_FACTS, DEAD_LETTERS),
            (HANDOFF_EVENTS, HANDOFF_TICKS, BUSINESS_EVENTS, HANDOFF_TIER_FACTS, CUSTOMER_IDENTIFIERS,
             CUSTOMER_CONTACTS),
            app=HANDOFFS_APP),
        "kpis": Access(
            (KPI_AGGREGATES, KPI_PARTIALS, KPI_MERGES, KPI_TICKS, DEAD_LETTERS),
            (*KPI_INPUTS, KPI_PARTIALS, KPI_MERGES, KPI_TICKS), app=KPIS_APP),
        "offers": Access(
            (MARKETING_SIGNALS, MARKETING_INSTRUCTIONS_CALL_CENTER, MARKETING_INSTRUCTIONS_BRANCH,
             MARKETING_INSTRUCTIONS_SMS, MARKETING_INSTRUCTIONS_EMAIL,
             MARKETING_OFFERS, DEAD_LETTERS),  # offer definitions: `omnibus offers` publishes them (campaigns.py)
            OFFER_INPUTS, app=OFFERS_APP),
        # Marketing's outbound gateways (not deployed here: the company's SMS gateway and e-mail campaign tool): each
        # reads only its own instruction topic, the one that carries the customers' phones / e-mails, and reports
        # what it sent on the responses topic (processors/offers/README.md, "Outbound pushes").
        "sms-gateway": Access((MARKETING_RESPONSES,), (MARKETING_INSTRUCTIONS_SMS,), group="sms-gateway"),
        "email-gateway": Access((MARKETING_RESPONSES,), (MARKETING_INSTRUCTIONS_EMAIL,), group="email-gateway"),
    }


def topic_settings() -> TopicSettings:
    """Prefix, partitions and replication factor as the deployed processes see them (the ConfigMap)."""
    data = yaml.safe_load(CONFIG_MAP.read_text())["data"]
    values = {"prefix": data.get("OMNIBUS_TOPICS__PREFIX"), "partitions": data.get("OMNIBUS_TOPICS__PARTITIONS"),
              "replication_factor": data.get("OMNIBUS_TOPICS__REPLICATION_FACTOR")}
    return TopicSettings(**{key: value for key, value in values.items() if value is not None})


def resource_name(topic: str) -> str:
    """A DNS-1123 name for a topic (dots are allowed, but Strimzi advises against them)."""
    return re.sub(r"[^a-z0-9-]", "-", topic.lower())


def _labels() -> dict[str, str]:
    return {"strimzi.io/cluster": CLUSTER, "app.kubernetes.io/name": "omnibus"}


def topics() -> list[dict[str, Any]]:
    settings = topic_settings()
    return [
        {
            "apiVersion": API_VERSION, "kind": "KafkaTopic",
            "metadata": {"name": resource_name(spec.name(settings)), "labels": _labels(),
                         "annotations": {"omnibus/description": spec.description, "omnibus/key": spec.key}},
            "spec": {"topicName": spec.name(settings), "partitions": spec.partition_count(settings),
                     "replicas": settings.replication_factor, "config": spec.configs()},
        }
        for spec in ALL_TOPICS
    ]


def _acl(kind: str, name: str, operations: list[str], pattern: str = "literal") -> dict[str, Any]:
    return {"type": "allow", "resource": {"type": kind, "name": name, "patternType": pattern},
            "operations": operations}


def user_name(component: str) -> str:
    return f"omnibus-{component}"


def users() -> list[dict[str, Any]]:
    settings = topic_settings()
    found = []
    for component, access in components().items():
        reads = sorted({spec.name(settings) for spec in access.reads})
        writes = sorted({spec.name(settings) for spec in access.writes})
        acls = [_acl("topic", name, ["Describe", "Read", "Write"] if name in writes else ["Describe", "Read"])
                for name in reads]
        acls += [_acl("topic", name, ["Describe", "Write"]) for name in writes if name not in reads]
        if access.app:
            app_id = f"{settings.prefix}.{access.app}"
            acls.append(_acl("group", app_id, ["Describe", "Read"]))
            acls.append(_acl("topic", f"{app_id}-", ["All"], "prefix"))
        if access.group:
            acls.append(_acl("group", f"{settings.prefix}.{access.group}", ["Describe", "Read"]))
        found.append({
            "apiVersion": API_VERSION, "kind": "KafkaUser",
            "metadata": {"name": user_name(component), "labels": _labels()},
            "spec": {"authentication": {"type": "scram-sha-512"},
                     "authorization": {"type": "simple", "acls": acls}},
        })
    return found
