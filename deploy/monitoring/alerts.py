"""Every Prometheus alert of Omnibus, declared once and rendered two ways.

``render_rule_file()`` is a plain Prometheus rule file (``rule_files:`` in prometheus.yml, checked by
``promtool check rules``); ``render_prometheus_rule()`` wraps the same groups in a Prometheus Operator
``PrometheusRule`` for Kubernetes. Both files are written by ``python -m deploy`` and a test fails when
they are not current. Each alert has a ``promtool test rules`` case in ``tests/deploy/alerts.promtool.yaml``, and
a section in the runbook ``docs/alerts.md`` (``deploy.monitoring.runbook``) that its ``runbook_url`` points at.

Metrics used and where they are declared: ``omnibus_consumer_lag``, ``omnibus_consumer_committed_offset``,
``omnibus_processor_ready`` (processors/readiness.py);
``omnibus_one_worker_split`` (processors/sole_worker.py); ``omnibus_dead_letters_total`` (bus/metrics.py);
``omnibus_adapter_records_received_total``/``_rejected_total``/``omnibus_adapter_unavailable_total``
(adapters/base/metrics.py);
``omnibus_requests_unauthorized_total`` (bus/refused_credentials.py);
``omnibus_handoff_unacknowledged_alarms_total``, ``omnibus_handoff_breaches_total`` (a series per policy team from
the start), ``omnibus_handoff_overdue`` (processors/handoffs/metrics.py); ``omnibus_consumer_commit_stalled``,
``omnibus_consumer_commit_stall_recoveries_total`` (bus/commit_watchdog.py); ``omnibus_consumer_lag_stalled``,
``omnibus_consumer_lag_stall_recoveries_total`` (bus/lag_watchdog.py); ``omnibus_handoff_directory_ready``
(processors/handoffs/directory_feed.py); ``omnibus_schema_registry_unreachable`` (bus/registry_outage.py); ``up``
(Prometheus itself, per scrape target).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.base import outage_log
from bus.refused_credentials import LOG_WINDOW_S, REFUSED_LINE
from deploy.monitoring.runbook import runbook_url

COMPONENT_JOBS = "omnibus-.*"  # scrape jobs are named after the Services: omnibus-<component>
# What to check, per reason of omnibus_requests_unauthorized_total (bus/refused_credentials.py)
CREDENTIALS_RUNBOOK = (
    "Where to look: the log of the component named (the adapter's; identity's, offers' or kpis' for their queries), "
    f"logger bus.refused_credentials, line '{REFUSED_LINE}', at most one every {LOG_WINDOW_S:g} s per "
    "reason, with the fields route (the endpoint), peer (the caller's address: behind an ingress, the ingress), "
    "forwarded_for (the request's X-Forwarded-For: the sender behind an ingress) of the last refusal it counts, "
    "refused (how many since the previous line) and routes, peers and forwarded_fors (each endpoint, address and "
    "X-Forwarded-For of those refusals with its count: two misconfigured senders show as two); never the "
    "credential. By reason: bad_signature on adapter.call_center: TaskRouter "
    "calls through a proxy or another host name than the adapter sees; set "
    "OMNIBUS_ADAPTER_CALL_CENTER__PUBLIC_BASE_URL to the scheme and host Twilio calls (the 401's error names the "
    "URL checked). unknown or missing: a rotated or mistyped write key (OMNIBUS_ADAPTER_WEB__WRITE_KEYS), terminal "
    "token (OMNIBUS_ADAPTER_BRANCH__TERMINAL_TOKENS), access key or bearer token (OMNIBUS_WEB__TOKENS). malformed: "
    "an Authorization header of another scheme or that does not decode (Basic sent where Bearer is asked, a token "
    "sent without 'Bearer '): the sender's configuration. stale or replayed: the sender's clock, or a replay. "
    "wrong_terminal: a terminal configured with another terminal's id or branch."
)
WHO_MAY_CALL = "README.md#who-may-call-what"  # the credentials each endpoint asks for, and their settings
PROCESSOR_JOBS = ("omnibus-identity", "omnibus-handoffs", "omnibus-kpis", "omnibus-offers")  # deploy/k8s/base


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str  # "page" wakes someone; "ticket" waits for working hours
    summary: str  # may use {{ $labels.x }} and {{ $value }}
    description: str
    see: str = ""  # a section of the docs its runbook section links to, from the repository's root (README.md#...)

    def rule(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, "system": "omnibus"},
            "annotations": {"summary": self.summary, "description": self.description,
                            "runbook_url": runbook_url(self.name)},
        }


PIPELINE = (
    Alert(
        "OmnibusConsumerLagGrowing",
        "sum by (component, topic) (omnibus_consumer_lag) > 1000\n"
        "and sum by (component, topic) (delta(omnibus_consumer_lag[15m])) > 0",
        "15m", "page",
        "{{ $labels.component }} is falling behind on {{ $labels.topic }} ({{ $value }} records)",
        "Consumer lag is above 1000 records and still growing after 15 minutes: events reach the CRM late. "
        "Add replicas (up to the partition count) or look for a slow dependency.",
    ),
    Alert(
        "OmnibusProcessorNotCommitting",
        "sum by (component) (omnibus_consumer_lag) > 0\n"
        "unless sum by (component) (changes(omnibus_consumer_committed_offset[15m])) > 0",
        "5m", "page",
        "{{ $labels.component }} has not committed an offset for 15 minutes with {{ $value }} records waiting",
        "The worker is up but no partition advanced: a stuck agent or a crash loop before the commit.",
    ),
    # The watchdog's gauge is 1 only from one check to the next (10 s) because it recovers at once: look back
    # over the window so a scrape interval longer than that still sees it.
    Alert(
        "OmnibusCommitStalled",
        "max by (component, topic, partition) (max_over_time(omnibus_consumer_commit_stalled[15m])) > 0",
        "0m", "ticket",
        "{{ $labels.component }} {{ $labels.topic }}[{{ $labels.partition }}] stopped committing and was sought back",
        "The commit watchdog (bus/commit_watchdog.py) saw processed records wait for a minute on a committed "
        "offset that did not move (faust-streaming issue #596: a gap in the acknowledged offsets) and sought the "
        "partition back to its committed offset; the records of the gap are processed again and deduplicated by "
        "event id. Nothing is lost. Once is expected after a rebalance; if it repeats see "
        "OmnibusCommitStallRecurring.",
    ),
    Alert(
        "OmnibusCommitStallRecurring",
        "sum by (component, topic, partition) (increase(omnibus_consumer_commit_stall_recoveries_total[1h])) > 3",
        "0m", "page",
        "{{ $labels.component }} {{ $labels.topic }}[{{ $labels.partition }}] stalled {{ $value | humanize }} times "
        "in an hour",
        "Seeking back does not make the partition commit again: the same records come back and never complete. "
        "Look in the worker's log for the error on that partition (a record that should be dead-lettered), then "
        "restart the worker; its committed offset is safe (the watchdog never commits past an unprocessed record).",
    ),
    # The lag watchdog's gauge, like the commit watchdog's, is 1 only until it recovers (a check or two): look back.
    Alert(
        "OmnibusPartitionNotConsuming",
        "max by (component, topic, partition) (max_over_time(omnibus_consumer_lag_stalled[15m])) > 0",
        "0m", "ticket",
        "{{ $labels.component }} {{ $labels.topic }}[{{ $labels.partition }}] consumed nothing with records waiting "
        "and was sought back",
        "The lag watchdog (bus/lag_watchdog.py) saw records wait on the partition (the broker's log end offset above "
        "the committed offset) while neither the consumer's position nor its committed offset moved for a minute. It "
        "put the partition back into faust's fetch set and sought it to its committed offset; if that did not help "
        "the worker exited with status 75 to be started again. Nothing is lost. If it repeats see "
        "OmnibusPartitionNotConsumingRecurring.",
    ),
    Alert(
        "OmnibusPartitionNotConsumingRecurring",
        "sum by (component, topic, partition) (increase(omnibus_consumer_lag_stall_recoveries_total[1h])) > 3",
        "0m", "page",
        "{{ $labels.component }} {{ $labels.topic }}[{{ $labels.partition }}] stopped consuming "
        "{{ $value | humanize }} times in an hour",
        "The partition keeps ending up with records waiting and nothing fetched, even after seeks and restarts. "
        "Read the worker's log around 'consumed nothing with records waiting' and check the broker (the "
        "partition's leader, its fetch errors) and the pods' restart counts.",
    ),
    Alert(
        "OmnibusPartitionStalled",
        "omnibus_consumer_lag > 0\nunless changes(omnibus_consumer_committed_offset[10m]) > 0",
        "10m", "ticket",
        "{{ $labels.component }} {{ $labels.topic }}[{{ $labels.partition }}] has not moved for 10 minutes",
        "One partition has records waiting but its committed offset does not move while others may: "
        "look for a record that keeps failing on that partition (it should be dead-lettered).",
    ),
    Alert(
        "OmnibusProcessorDown",
        f'up{{job=~"{COMPONENT_JOBS}"}} == 0',
        "5m", "page",
        "{{ $labels.job }} target {{ $labels.instance }} is down",
        "Prometheus cannot scrape the process: it is not running or not reachable.",
    ),
    Alert(
        "OmnibusProcessorGone",
        "\nor ".join(f'absent(up{{job="{job}"}})' for job in PROCESSOR_JOBS),
        "10m", "page",
        "no {{ $labels.job }} worker has been scraped for 10 minutes",
        "Every worker of the processor has vanished (scaled to 0, Pending, deleted, or its ServiceMonitor gone): "
        "its up and lag series vanished with it, so OmnibusProcessorDown and the lag alerts cannot fire. "
        "Nothing is consumed; check the Deployment or StatefulSet and its events.",
    ),
    Alert(
        "OmnibusProcessorNotReady",
        "min by (component) (omnibus_processor_ready) == 0",
        "15m", "ticket",
        "{{ $labels.component }} has not been ready for 15 minutes",
        "A worker runs but does not own its partitions or is more than its lag limit behind.",
    ),
    Alert(
        "OmnibusOneWorkerSplit",
        "max by (component) (omnibus_one_worker_split) > 0",
        "2m", "page",
        "{{ $labels.component }} runs as more than one worker: it processes nothing",
        "A processor that runs as one worker (processors/scaling.py: offers) has a second worker in its consumer "
        "group, which took part of the partitions: each worker holds back every record, writes and publishes nothing, "
        "and answers /ready and its queries with 503. Offers, answers and customers wait (none is lost). Find the "
        "second worker: the error line 'holds only part of its inputs' partitions' names how many of how many "
        "partitions each holds (also omnibus_one_worker_partitions_held and omnibus_one_worker_partitions); "
        "`kubectl get pods -l app.kubernetes.io/component=processor-offers` (replicas and strategy of the Deployment "
        "must be 1 and Recreate), or a second `omnibus offers run` on the same topics. Stop it: the worker left holds "
        "every partition again and goes on from the committed offsets.",
        see="processors/offers/README.md#one-worker",
    ),
    Alert(
        "OmnibusDeadLetters",
        "sum by (component, error_type) (rate(omnibus_dead_letters_total[10m])) > 0.05",
        "10m", "ticket",
        "{{ $labels.component }} dead-letters {{ $value | humanize }} records/s ({{ $labels.error_type }})",
        "More than 3 records a minute go to the dead-letter topic: read their reasons with `omnibus deadletters list "
        "--since 1h` (one decoded: `omnibus deadletters show ID`), fix the source or the mapping, then put them back "
        "with `omnibus deadletters redrive`.",
    ),
    Alert(
        "OmnibusAdapterRejectingMostInput",
        "sum by (adapter) (rate(omnibus_adapter_records_rejected_total[10m]))\n"
        "/ sum by (adapter) (rate(omnibus_adapter_records_received_total[10m])) > 0.5\n"
        "and sum by (adapter) (rate(omnibus_adapter_records_received_total[10m])) > 0.01",
        "10m", "page",
        "the {{ $labels.adapter }} adapter refuses {{ $value | humanizePercentage }} of its input",
        "More than half of what a channel sends is refused: a changed source format, a rotated key or a "
        "misconfigured site. The refusals carry their reason on the dead-letter topic.",
    ),
    # A broker outage answers every channel 503 while adapters stay ready by design (README "Operating it"):
    # this is the page that says so. Every 2-minute window with a 503 for 5 minutes: a lone timeout does not page.
    Alert(
        "OmnibusAdapterAnswering503",
        "sum by (adapter) (increase(omnibus_adapter_unavailable_total[2m])) > 0",
        "5m", "page",
        "the {{ $labels.adapter }} adapter has answered 503 for 5 minutes: Kafka does not acknowledge",
        "The adapter answers 503 with Retry-After to its senders because Kafka (or the schema registry) did not "
        "acknowledge within the timeout: the channel's events wait on the senders' side, which retry; nothing "
        "acknowledged is lost. Where to look: the adapter's log line "
        f"'{outage_log.MESSAGE}' (the reason and how many were answered, at most one every "
        f"{outage_log.WINDOW_S:g} s), then the brokers (running, reachable from the adapter, disk space, the "
        "partitions' leaders) and the registry. Processors show the same outage: their /ready says 'no broker "
        "answered for N s' and omnibus_consumer_lag_age_seconds grows.",
        see="README.md#operating-it",
    ),
    # A registry outage holds every record whose writer schema a process has not cached: processors wait, not crash
    Alert(
        "OmnibusSchemaRegistryUnreachable",
        f'max by (job, instance) (omnibus_schema_registry_unreachable{{job=~"{COMPONENT_JOBS}"}}) > 0',
        "5m", "page",
        "{{ $labels.job }} ({{ $labels.instance }}) has waited 5 minutes for a schema registry that does not answer",
        "A schema look-up or registration of the process waits and retries (bus/registry_outage.py): the decode of "
        "an input record, the registration of an output schema (a record's first of its type since the start, a "
        "new schema version), a stored event decoded again (identity), a row of a followed topic (identity's "
        "fast-path view, the handoff directory). The partition holding the record does not move, nothing is "
        "produced for it, dead-lettered or lost, the processor's /ready answers 503 naming the registry. Check the "
        "registry (running, reachable, its storage); processing goes on by itself once it answers.",
    ),
    # a 401 is not dead-lettered (not our data), so nothing else shows a channel locked out
    Alert(
        "OmnibusRefusingCredentials",
        "sum by (component, reason) (rate(omnibus_requests_unauthorized_total[10m])) > 0.05",
        "10m", "page",
        "{{ $labels.component }} refuses {{ $value | humanize }} requests/s for their credentials "
        "({{ $labels.reason }})",
        "More than 3 requests a minute are answered 401: a channel's events are not arriving. " + CREDENTIALS_RUNBOOK,
        see=WHO_MAY_CALL,
    ),
    # a counter terminal with a stale token backs off to about one upload a minute, below the page
    Alert(
        "OmnibusCredentialsKeptRefused",
        "sum by (component, reason) (increase(omnibus_requests_unauthorized_total[10m])) >= 3",
        "30m", "ticket",
        "{{ $labels.component }} has refused credentials ({{ $labels.reason }}) for 30 minutes",
        "At least 3 requests in every 10 minutes for half an hour are answered 401: a sender that retries slowly "
        "(a counter terminal backing off, a nightly job) is locked out and its events wait on its side. "
        + CREDENTIALS_RUNBOOK,
        see=WHO_MAY_CALL,
    ),
)

HANDOFFS = (
    Alert(
        "OmnibusHandoffsUnacknowledged",
        "sum by (team) (increase(omnibus_handoff_unacknowledged_alarms_total[30m])) > 0",
        "0m", "page",
        "handoffs for team {{ $labels.team }} were not acknowledged by their receiving system",
        "The tracker raised lost-handoff alarms: a work order was sent and no receiving system confirmed "
        "it within the policy's acknowledgement window.",
    ),
    Alert(
        "OmnibusHandoffDeadlineBreaches",
        "sum by (team) (increase(omnibus_handoff_breaches_total[1h])) > 0",
        "0m", "ticket",
        "team {{ $labels.team }} missed {{ $value | humanize }} handoff deadlines in the last hour",
        "Handoffs passed their business-hours deadline; escalations went out per the policy.",
    ),
    Alert(
        "OmnibusHandoffsOverdue",
        "sum by (team) (omnibus_handoff_overdue) > 0",
        "0m", "ticket",
        "{{ $value }} handoffs of team {{ $labels.team }} are past their deadline now",
        "Open handoffs whose resolution deadline has passed (omnibus_handoff_overdue, recounted by the tracker): "
        "it keeps firing until they are resolved or re-timed, unlike the breach counter's one-hour window.",
    ),
    Alert(
        "OmnibusHandoffEventsForUnknownCases",
        'sum(increase(omnibus_handoff_illegal_transitions_total{reason="unknown_handoff"}[1h])) > 0',
        "0m", "ticket",
        "{{ $value | humanize }} handoff events in the last hour named a case nobody created",
        "A follow-up (a customer back at the counter or on the portal about a case), an acknowledgement or a "
        "back-office status row named a handoff id the tracker never saw created, most often a mistyped case id: "
        "the channel was answered 2xx and the tracker dead-lettered the event, so the visit or update is on no case. "
        "Too few to trip OmnibusDeadLetters, each one is a customer the back office does not hear about. List them "
        "with `omnibus deadletters list --component handoffs --error-type unknown_handoff --since 1d` and record "
        "them again under the right case id.",
    ),
    Alert(
        "OmnibusHandoffDirectoryNotReady",
        "omnibus_handoff_directory_ready == 0",
        "15m", "ticket",
        "the handoff tracker {{ $labels.instance }} has not read the customer directory for 15 minutes",
        "Until the directory has read customer.identifiers.v1 and handoff.tier-facts.v1 up to where they were "
        "at its start, new handoffs start on the default tier and are re-timed once it is read: deadlines may be "
        "too long for premium customers. Check that the tracker's Kafka user may read both topics, that they "
        "exist (omnibus topics apply) and the tracker's log for directory errors.",
    ),
)

GROUPS: dict[str, tuple[Alert, ...]] = {"omnibus-pipeline": PIPELINE, "omnibus-handoffs": HANDOFFS}


def groups() -> list[dict[str, Any]]:
    return [{"name": name, "rules": [alert.rule() for alert in alerts]} for name, alerts in GROUPS.items()]


def render_rule_file() -> dict[str, Any]:
    """The plain Prometheus rule file."""
    return {"groups": groups()}


def render_prometheus_rule() -> dict[str, Any]:
    """The same groups as a Prometheus Operator ``PrometheusRule`` (monitoring.coreos.com/v1)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "omnibus", "labels": {"app.kubernetes.io/name": "omnibus", "release": "prometheus"}},
        "spec": {"groups": groups()},
    }
