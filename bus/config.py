"""Typed, frozen settings for every Omnibus process.

Values come from keyword arguments or ``OMNIBUS_*`` environment variables; nested sections use a double
underscore (``OMNIBUS_KAFKA__BOOTSTRAP_SERVERS``). Unknown keys are rejected, including misspelt
``OMNIBUS_`` environment variables, because a typo that silently falls back to a default is how a
production process ends up talking to the wrong cluster.

This module declares and loads the settings; it opens no client. ``KafkaSettings`` reaches every Kafka client
through one translator, ``bus.kafka_client``, and a refused value is worded by ``bus.validation_errors``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bus.errors import ConfigError
from bus.identifiers.settings import IdentifierSettings
from bus.validation_errors import describe_validation_error

ENV_PREFIX = "OMNIBUS_"
NESTED_DELIMITER = "__"
BOOTSTRAP_SERVERS_VARIABLE = f"{ENV_PREFIX}KAFKA{NESTED_DELIMITER}BOOTSTRAP_SERVERS"
REGISTRY_URL_VARIABLE = f"{ENV_PREFIX}REGISTRY{NESTED_DELIMITER}URL"

# How long a local server's start is waited for in all, and without progress (seconds; ``bus.stack.startup``).
STACK_START_VARIABLE = f"{ENV_PREFIX}STACK_START_S"
STACK_STALL_VARIABLE = f"{ENV_PREFIX}STACK_STALL_S"
# Variables read by the tooling (local stack, scripts, test fixtures) rather than by a running process: exported in a
# shell, they must not make every command refuse to start (``tests/bus/test_config.py`` finds the scripts' and
# tests' names and checks they are here).
TOOLING_VARIABLES = frozenset(
    {"OMNIBUS_STACK_DIR", "OMNIBUS_STACK_CACHE", "OMNIBUS_TEST_BOOTSTRAP", "OMNIBUS_KAFKA_VERSION",
     "OMNIBUS_APICURIO_VERSION", "OMNIBUS_TEST_REGISTRY_URL", STACK_START_VARIABLE, STACK_STALL_VARIABLE,
     "OMNIBUS_TEST_LOG", "OMNIBUS_TEST_WORKERS", "OMNIBUS_FUZZ_CASES", "OMNIBUS_FUZZ_OPENAPI_CASES",
     "OMNIBUS_FUZZ_SLOW_CASES"}
)
# Each adapter and processor checks its own variables (OMNIBUS_ADAPTER_WEB__WRITE_KEYS, ...).
COMPONENT_PREFIXES = ("OMNIBUS_ADAPTER_", "OMNIBUS_PROCESSOR_")


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Madrid)") from exc
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
"""An IANA time zone name (``Europe/Paris``), refused at load time when this machine does not know it."""


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(Section):
    """How every client (aiokafka producer, consumer, admin, faust) reaches the brokers.

    Translated into client options in one place: ``bus.kafka_client``.
    """

    bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated host:port list.")
    client_id: str = Field("omnibus", description="client.id the brokers see in their logs and quotas.")
    security_protocol: SecurityProtocol = Field("PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
    sasl_mechanism: SaslMechanism | None = Field(None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.")
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL password (a secret, masked when printed).")
    ssl_cafile: str | None = Field(
        None, description="PEM file of the CA(s) that signed the brokers' certificates; unset means the system CAs."
    )
    ssl_certfile: str | None = Field(None, description="PEM client certificate (mutual TLS).")
    ssl_keyfile: str | None = Field(None, description="PEM private key of ssl_certfile.")
    ssl_key_password: SecretStr | None = Field(None, description="Password of ssl_keyfile, if it is encrypted.")
    ssl_check_hostname: bool = Field(True, description="Check that a broker's certificate names its host.")
    request_timeout_ms: int = Field(30_000, gt=0, description="How long a client waits for a broker's answer.")


class WireFormat(str, Enum):
    """How an Avro body is framed on Kafka."""

    CONFLUENT = "confluent"  # magic 0 + 4-byte schema id, schemas held by a registry
    SINGLE_OBJECT = "single-object"  # Avro spec: C3 01 + CRC-64-AVRO fingerprint, schemas from schemas/


class RegistrySettings(Section):
    url: str | None = Field(
        None, description="Confluent-compatible registry base URL; unset means registry-free mode."
    )
    username: str | None = Field(None, description="Registry basic-auth user name.")
    password: SecretStr | None = Field(None, description="Registry basic-auth password (a secret).")
    timeout_s: float = Field(
        10.0, gt=0, description="How long a registry request may take all told (seconds); a slower one is an outage.")

    @property
    def wire_format(self) -> WireFormat:
        return WireFormat.CONFLUENT if self.url else WireFormat.SINGLE_OBJECT


class ProducerSettings(Section):
    compression_type: Literal["lz4", "zstd", "gzip", "snappy"] | None = Field(
        "lz4", description="Compression of the record batches produced: lz4, zstd, gzip or snappy.")
    linger_ms: int = Field(5, ge=0, description="Wait this long to fill a batch; trades latency for throughput.")
    max_batch_size: int = Field(256 * 1024, gt=0, description="Bytes per partition batch.")
    request_timeout_ms: int = Field(30_000, gt=0, description="How long the producer waits for a broker's answer.")
    # Java's delivery.timeout.ms: aiokafka retries a batch (in order, without copies) until it is this old; it has
    # no setting of its own, so this becomes the producer's request_timeout_ms (bus.kafka_client.producer_options).
    delivery_timeout_ms: int = Field(120_000, gt=0, description="How long the producer retries a batch a broker "
                                     "refused for a transient reason (no leader, timeout) before failing it.")
    retry_backoff_max_ms: int = Field(5_000, gt=0, description="Longest wait between two tries of a start or "
                                      "publish that failed for a transient reason (bus.publish_retry).")
    give_up_after_s: float = Field(600.0, gt=0, description="A start or publish that keeps failing for a "
                                   "transient reason is tried again for this long, then its error is raised "
                                   "(a processor stops and is restarted; an adapter answers 503).")


class TopicSettings(Section):
    prefix: str = Field("omnibus", pattern=r"^[a-zA-Z0-9._-]+$",
                        description="Topic names are <prefix>.<domain>.<what>.v<N>.")
    partitions: int = Field(12, gt=0, description="Partitions of the topics omnibus topics apply creates.")
    replication_factor: int = Field(1, gt=0, description="Replicas of each topic omnibus topics apply creates "
                                    "(3 in production).")
    # How soon the processors' table changelogs are compacted, so a worker restoring a table reads about one
    # record per key (#13 fast takeover). Set when faust creates a changelog topic (bus.fenced_table).
    changelog_segment_ms: int = Field(3_600_000, gt=0, description="Changelog segment.ms: the active segment is "
                                      "never compacted; rolling it hourly makes older records cleanable.")
    changelog_min_cleanable_dirty_ratio: float = Field(0.1, gt=0, le=1, description="Changelog "
                                                       "min.cleanable.dirty.ratio (broker default 0.5).")
    changelog_max_compaction_lag_ms: int = Field(21_600_000, gt=0, description="Changelog max.compaction.lag.ms: "
                                                 "a record is compacted within this even below the dirty ratio.")


class MetricsSettings(Section):
    enabled: bool = Field(True, description="Serve /metrics at all.")
    host: str = Field("127.0.0.1", description="Address the /metrics server listens on (0.0.0.0 in a container).")
    port: int = Field(9464, ge=0, le=65535, description="0 picks a free port.")


class WebSettings(Section):
    """The processors' HTTP server (screen pop, worker-to-worker routing)."""

    bind: str = Field("127.0.0.1", description="Address the server listens on (0.0.0.0 in a container).")
    host: str = Field("127.0.0.1", description="Address other workers use to reach this one (the pod IP).")
    tokens: dict[str, SecretStr] = Field(
        {}, description="Caller name -> bearer token the screen pop, offers and KPI queries ask for "
        "(processors/web_auth.py); empty: none asked, the network alone decides (README 'Who may call what').")


class LogSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Least level of the log "
                                                                "lines written on stderr.")
    json_output: bool = Field(True, description="JSON lines; false: lines for a person at a terminal.")


class StopSettings(Section):
    """How long a process may take to stop (``bus.shutdown``)."""

    deadline_s: float = Field(
        40.0, gt=0,  # below deploy/k8s' terminationGracePeriodSeconds: 45 s adapters, 60 s processors
        description="After SIGTERM/SIGINT, stop flushing and committing to Kafka after this many seconds: log what "
        "is abandoned (counts), exit 124. Keep it below Kubernetes' terminationGracePeriodSeconds.")


class StartupSettings(Section):
    """When a worker that never became ready gives up (``bus.startup_watchdog``)."""

    stall_after_s: float = Field(
        300.0, gt=0, description="A processor that is not ready yet and whose start-up made no progress for this "
        "many seconds (no partitions given, a rebalance that does not end, a table restore that reads nothing) logs "
        "why, answers 503 on /live and exits with status 75 to be started again. A restore that reads records is "
        "progress: a large table may take longer than this to restore.")


class ReadinessSettings(Section):
    """When a processor's ``/ready`` gives up on a broker it cannot reach (``processors.readiness.BrokerContact``)."""

    broker_timeout_s: float = Field(
        15.0, gt=0, description="A processor is not ready when no broker answered its metadata probe for this many "
        "seconds (so a killed broker takes the worker out of service instead of /ready answering 200). /live does not "
        "depend on it.")
    broker_probe_s: float = Field(5.0, gt=0, description="How often the probe asks the brokers for metadata.")


class DeadLetterSettings(Section):
    seal_key: SecretStr | None = Field(
        None, description="Key that seals the body an adapter's HTTP ingress refused, or the row the legacy "
        "adapter's outbox relay or a poller refused, into its dead letter (AES-256-GCM, bus.sealing), so that omnibus "
        "deadletters redrive can re-submit it; at least 32 random characters, the same on every adapter and where "
        "redrive runs. Unset: refused bodies and rows are kept only as the dead letter's clear copy (national IDs and "
        "cards as tokens, phones and e-mails masked, free text scrubbed), and cannot be re-driven.")

    @field_validator("seal_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        from bus.sealing import MIN_SEAL_KEY_CHARS

        if value is not None and len(value.get_secret_value()) < MIN_SEAL_KEY_CHARS:
            raise ValueError(f"the seal key must be at least {MIN_SEAL_KEY_CHARS} characters")
        return value


class OmnibusSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        frozen=True,
        extra="forbid",
    )

    kafka: KafkaSettings = KafkaSettings()
    registry: RegistrySettings = RegistrySettings()
    producer: ProducerSettings = ProducerSettings()
    topics: TopicSettings = TopicSettings()
    metrics: MetricsSettings = MetricsSettings()
    web: WebSettings = WebSettings()
    log: LogSettings = LogSettings()
    stop: StopSettings = StopSettings()
    readiness: ReadinessSettings = ReadinessSettings()
    startup: StartupSettings = StartupSettings()
    identifiers: IdentifierSettings = IdentifierSettings()  # OMNIBUS_IDENTIFIERS__*: see bus/identifiers
    dead_letters: DeadLetterSettings = DeadLetterSettings()  # OMNIBUS_DEAD_LETTERS__*: see bus/sealing


def unknown_environment_keys(environ: Mapping[str, str]) -> list[str]:
    """``OMNIBUS_*`` variables that name no setting."""
    known_sections = {name.upper(): model for name, model in OmnibusSettings.model_fields.items()}
    unknown = []
    for key in environ:
        if not key.startswith(ENV_PREFIX) or key in TOOLING_VARIABLES or key.startswith(COMPONENT_PREFIXES):
            continue
        section, _, field_name = key[len(ENV_PREFIX) :].partition(NESTED_DELIMITER)
        info = known_sections.get(section)
        if info is None:
            unknown.append(key)
            continue
        if not field_name:
            continue  # a whole section given as JSON
        section_model = info.annotation
        if field_name.lower() not in section_model.model_fields:  # type: ignore[union-attr]
            unknown.append(key)
    return sorted(unknown)


def load_settings(**overrides: object) -> OmnibusSettings:
    """Build settings from ``OMNIBUS_*`` variables plus overrides; raise ``ConfigError`` naming every problem.

    When no bootstrap servers are given (neither variable nor override) and a local stack started by
    ``omnibus stack up`` is running (its ``stack.json`` in ``$OMNIBUS_STACK_DIR`` or ``<repo>/.omnibus``),
    its broker is used, so ``omnibus topics apply`` right after ``stack up`` needs no address. So is its registry,
    when no registry URL is given and the broker is the stack's: without it the records written with the
    registry's schemas do not decode (``offers list`` answered "0 offer(s)" with 7 live). An empty
    ``OMNIBUS_REGISTRY__URL`` keeps registry-free mode.
    """
    unknown = unknown_environment_keys(os.environ)
    if unknown:
        raise ConfigError(f"unknown Omnibus settings in the environment: {', '.join(unknown)}")
    try:
        return OmnibusSettings(**_with_local_stack(overrides))  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"invalid Omnibus settings: {describe_validation_error(exc)}") from exc


def _with_local_stack(overrides: dict[str, object]) -> dict[str, object]:
    kafka, registry = overrides.get("kafka"), overrides.get("registry")
    kafka_given = _given(kafka, "bootstrap_servers", "KAFKA")
    registry_given = _given(registry, "url", "REGISTRY")
    if kafka_given and registry_given:
        return overrides
    from bus.stack.local import local_endpoints  # the stack module is tooling: load it only here

    found = local_endpoints()
    if found is None:
        return overrides
    given_servers = os.environ.get(BOOTSTRAP_SERVERS_VARIABLE)
    if isinstance(kafka, BaseModel | Mapping):
        given_servers = getattr(kafka, "bootstrap_servers", None) if isinstance(kafka, BaseModel) \
            else kafka.get("bootstrap_servers")
    found_overrides = dict(overrides)
    if not kafka_given:
        found_overrides["kafka"] = {**(kafka if isinstance(kafka, Mapping) else {}),
                                    "bootstrap_servers": found.bootstrap_servers}
    # The stack's registry goes with the stack's broker only: another cluster's records were written with its own.
    if not registry_given and found.registry_url and (not kafka_given or given_servers == found.bootstrap_servers):
        found_overrides["registry"] = {**(registry if isinstance(registry, Mapping) else {}), "url": found.registry_url}
    return found_overrides


def _given(override: object, field: str, section: str) -> bool:
    """Whether ``field`` of ``section`` is set by an override or an environment variable (set empty counts: an
    empty ``OMNIBUS_REGISTRY__URL`` asks for registry-free mode)."""
    if isinstance(override, BaseModel) or (isinstance(override, Mapping) and field in override):
        return True
    return bool({f"{ENV_PREFIX}{section}{NESTED_DELIMITER}{field.upper()}", f"{ENV_PREFIX}{section}"} & set(os.environ))


ComponentModel = TypeVar("ComponentModel", bound=BaseModel)


def load_component_settings(
    model: type[ComponentModel], env_prefix: str, **overrides: object
) -> ComponentModel:
    """Settings of one adapter or processor from ``<env_prefix>FIELD`` variables plus overrides.

    ``env_prefix`` is e.g. ``"OMNIBUS_ADAPTER_WEB__"``. Values are parsed by pydantic (JSON for lists
    and mappings); a variable under the prefix that names no field is an error, as for the core settings.
    """
    values: dict[str, object] = {}
    unknown = []
    for key, raw in os.environ.items():
        if not key.startswith(env_prefix):
            continue
        name = key[len(env_prefix) :].lower()
        if name not in model.model_fields:
            unknown.append(key)
            continue
        values[name] = _parse_env_value(raw)
    if unknown:
        # a setting a model no longer has says what replaced it (the model's ``removed_settings``: field -> note)
        removed: Mapping[str, str] = getattr(model, "removed_settings", {})
        named = [f"{key} ({removed[key[len(env_prefix):].lower()]})" if key[len(env_prefix):].lower() in removed
                 else key for key in sorted(unknown)]
        raise ConfigError(f"unknown settings for {model.__name__}: {', '.join(named)}")
    values.update(overrides)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"invalid {model.__name__} settings: {describe_validation_error(exc, env_prefix)}") from exc


def _parse_env_value(raw: str) -> object:
    stripped = raw.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw
