"""A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for tests and demos.

Version: Kafka 4.4.0 (``org.apache.kafka:kafka_2.13``), the newest 4.x on Maven Central when this
was written; override with env ``OMNIBUS_KAFKA_VERSION``. It was checked against the clients the
project uses: aiokafka (idempotent producer with ``acks=all``, consumer groups with the classic
protocol) and faust-streaming 0.15.3 (agents, tables with changelog topics, the leader assignor)
all work on 4.x, so there was no need to fall back to 3.9 — see tests/bus/stack/test_kafka_broker.py.

How it runs (what ``start`` does, all under ``<state_dir>/kafka/``):

1. ``mvn`` fetches kafka_2.13 and its runtime deps plus log4j2 (Kafka 4 logs via log4j2 and the
   slf4j 1.x binding) into ``~/.cache/omnibus/kafka-<version>/libs`` once (see ``maven.py``).
2. ``config/server.properties`` is written: ``process.roles=broker,controller``, listeners on
   127.0.0.1 (client port free or given, controller port free), replication 1 everywhere,
   ``group.initial.rebalance.delay.ms=0`` and ``auto.create.topics.enable=false`` (Omnibus creates
   its topics explicitly, so a typo'd topic name fails instead of silently appearing), and a broker lease on its
   controller long enough for a starved machine (``SESSION_TIMEOUT_MS``, below).
3. ``java -cp 'libs/*' kafka.tools.StorageTool format -t <id> -c server.properties --standalone``
   formats a fresh ``data/`` directory: the stack is ephemeral, every start is a new cluster
   (unless ``keep_data=True`` and ``data/`` was formatted before: then it restarts with its topics).
4. ``java -Xmx512m ... -cp 'libs/*' kafka.Kafka config/server.properties`` in its own process
   group; log4j2 writes ``logs/server.log``, the JVM's stdout/stderr go to ``logs/stdout.log``.
5. Ready means a real metadata request (aiokafka ``describe_cluster``) succeeds and names this broker's cluster id,
   not just an open port (another broker that took the port answers with its own). Failures raise
   ``KafkaStartError`` with the tail of the broker log.

Ports: the broker binds the ports it is given; it cannot be handed a bound socket nor report a port of its own
choosing. Each port is held from its choice until the broker is ready (``bus.stack.ports.start_on_held_ports``: the
number given, or one the kernel picks), so no other process can bind it in between; a start that lost a port anyway
("Address already in use" in its log, or another cluster answering) starts again on other ports when all were left
to it, each retry logged. A given port another process listens on fails the start naming it. A broker started again
(``stop`` then ``start``) keeps the ports its first start bound: its clients know that address.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from bus.errors import LOG_TAIL_MARK
from bus.stack import maven, process
from bus.stack.ports import HOST, PortTaken, is_listening, start_on_held_ports
from bus.stack.security import BrokerSecurity, format_arguments, listener_properties, listeners, probe_options
from bus.stack.startup import StartLimits, StartWatch, await_start

DEFAULT_VERSION = os.environ.get("OMNIBUS_KAFKA_VERSION", "4.4.0")
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
_ANOTHER_CLUSTER = "another cluster answers on port"  # the ready probe's words for a port another broker bound

# The broker's lease on its controller (KIP-631): a broker whose heartbeats (every ``broker.heartbeat.interval.ms``,
# 2 s) have not reached the controller for ``broker.session.timeout.ms`` is fenced, and while it is, CreateTopics
# answers "All brokers are currently fenced" and its partitions have no leader. Kafka's 9 s default is for a
# dedicated machine; this broker shares 2 cores with a test's or a demo's every process: in CI, 50 counter agents,
# an adapter and identity starved it for longer than 9 s, it fenced itself and identity's start failed. 20 s (10
# heartbeats) rides out such starvation (a worker's declarations also retry while fenced: ``bus.admin_refusal``).
# Its cost: a broker started again after it was killed (``kill -9``, keeping its data) waits for its old
# registration's lease to run out before it can register again (Kafka's ``DuplicateBrokerRegistrationException``;
# the controller starts every lease afresh when it becomes active), so such a restart takes up to one lease longer
# (longer leases would cost every kill-and-restart fault test that much). ``_await_ready`` waits on while the
# broker's log grows (``bus.stack.startup``), and the broker's own limit on its first registration
# (``initial.broker.registration.timeout.ms``, 60 s by default, then it exits) is raised above the lease.
SESSION_TIMEOUT_MS = 20_000
REGISTRATION_TIMEOUT_MS = 120_000

# ``shutdownHook = disable`` and ``append = true``: with log4j2's own shutdown hook the broker's shutdown logged into
# a context log4j made afresh, whose File appender (then ``append = false``) emptied server.log as the broker
# stopped, so a test's broker log held only its last lines; ``_prepare`` empties the file at each start instead.
LOG4J2 = """\
status = warn
name = omnibus-kafka
shutdownHook = disable
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


class KafkaStartError(process.StackError):
    """The broker did not start or did not become ready; the message carries its log tail."""


def fetch(version: str = DEFAULT_VERSION) -> Path:
    """The directory of Kafka jars for ``version``, fetched with Maven on first use."""
    return maven.fetch("kafka", version, "kafka.xml")


def new_cluster_id() -> str:
    """A KRaft cluster id in Kafka's format (URL-safe base64 of 16 random bytes, no padding)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka's own Uuid.randomUuid() avoids these too
            return text


class KafkaBroker(process.OwnedServer):
    """One KRaft broker+controller on 127.0.0.1, started and owned by this object.

    ``tie_to_parent`` (default) makes the kernel stop the JVM if the starting thread's process dies;
    start such brokers from a long-lived thread (the main thread, a pytest fixture). The CLI's
    ``stack up`` passes False so the broker outlives it.
    """

    def __init__(
        self,
        state_dir: Path,
        port: int | None = None,
        version: str = DEFAULT_VERSION,
        *,
        controller_port: int | None = None,
        heap: str = "512m",
        limits: StartLimits | None = None,
        tie_to_parent: bool = True,
        keep_data: bool = False,
        security: BrokerSecurity | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()  # the broker runs with cwd=home: a relative path would point nowhere
        self.home = self.state_dir / "kafka"
        self.version = version
        self.heap = heap
        self.limits = limits or StartLimits.from_environment()
        self.tie_to_parent = tie_to_parent
        # Reuse data/ formatted by an earlier start (same state_dir, same ports): topics and offsets
        # survive a stop, as for a broker restart in production.
        self.keep_data = keep_data
        # Optional SSL and SASL_SSL listeners beside the plaintext one (bus/stack/security.py).
        self.security = security
        self.ssl_port: int | None = None
        self.sasl_ssl_port: int | None = None
        self._requested = (port, controller_port)
        self.port: int | None = port
        self.controller_port: int | None = controller_port
        self.marker = process.new_marker()
        self._popen: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self.cluster_id: str | None = None  # formatted into data/ (meta.properties); the ready probe checks it

    # -- properties -------------------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        if self.port is None:
            raise KafkaStartError("the broker has no port yet: call start() first")
        return f"{HOST}:{self.port}"

    @property
    def ssl_bootstrap_servers(self) -> str:
        """The TLS listener (only with ``security``)."""
        return f"{HOST}:{self.ssl_port}"

    @property
    def sasl_ssl_bootstrap_servers(self) -> str:
        """The SASL over TLS listener (only with ``security``)."""
        return f"{HOST}:{self.sasl_ssl_port}"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def log_path(self) -> Path:
        """log4j2's broker log; JVM-level failures (bad flags, OOM) land in ``stdout.log`` beside it."""
        return self.log_dir / "server.log"

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / "stdout.log"

    def describe(self) -> dict[str, Any]:
        """What ``stack.json`` records about this broker."""
        return {
            "version": self.version,
            "pid": self.pid,
            "marker": self.marker,
            "port": self.port,
            "controller_port": self.controller_port,
            "bootstrap_servers": self.bootstrap_servers,
            "log_path": str(self.log_path),
            "stdout_path": str(self.stdout_path),
        }

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> KafkaBroker:
        """Fetch (cached), format, launch and wait until the broker answers metadata requests."""
        if self.is_running():
            return self
        java = maven.java_executable()
        libs = fetch(self.version)
        began = time.monotonic()
        port, controller = self._requested
        secured: list[int | None] = [None, None] if self.security is not None else []
        try:
            start_on_held_ports([port, controller, *secured], lambda ports: self._start_on(java, libs, ports),
                                server="broker", lost=self._port_taken)
        except PortTaken as taken:
            raise KafkaStartError(str(taken)) from taken
        self._requested = (self.port, self.controller_port)  # a restart keeps the address its clients know
        self.startup_seconds = time.monotonic() - began
        return self

    # -- internals --------------------------------------------------------------------------------
    def _start_on(self, java: str, libs: Path, ports: list[int]) -> None:
        """Format (unless kept), launch on ``ports`` (client, controller, then the TLS and SASL_SSL listeners' with
        ``security``) and wait until ready; a failed wait stops the broker first."""
        self.port, self.controller_port = ports[0], ports[1]
        if self.security is not None:
            self.ssl_port, self.sasl_ssl_port = ports[2], ports[3]
            if not self.security.plaintext:  # the broker's own port is then its SSL listener
                self.ssl_port = self.port
        self._prepare(java, libs)
        self._launch(java, libs)
        self._await_ready_or_stop()

    def _port_taken(self, failure: Exception) -> bool:
        """Whether ``failure`` (a start that did not become ready) came from a port another process bound first."""
        if not isinstance(failure, KafkaStartError):
            return False
        logged = maven.tail(self.log_path, 200) + maven.tail(self.stdout_path)
        return "Address already in use" in logged or _ANOTHER_CLUSTER in str(failure)

    def _server_properties(self) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.home / "data"),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "broker.session.timeout.ms": str(SESSION_TIMEOUT_MS),
            "initial.broker.registration.timeout.ms": str(REGISTRATION_TIMEOUT_MS),
        }
        if self.security is not None:
            assert self.port and self.controller_port and self.ssl_port and self.sasl_ssl_port
            settings |= listeners(HOST, self.port, self.controller_port, self.ssl_port, self.sasl_ssl_port,
                                  plaintext=self.security.plaintext)
            settings |= listener_properties(self.security)
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _prepare(self, java: str, libs: Path) -> None:
        reuse = self.keep_data and (self.home / "data" / "meta.properties").exists()
        if not reuse:
            shutil.rmtree(self.home / "data", ignore_errors=True)
        (self.home / "config").mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path.write_bytes(b"")
        self.log_path.write_bytes(b"")
        (self.home / "config" / "server.properties").write_text(self._server_properties())
        (self.home / "config" / "log4j2.properties").write_text(LOG4J2)
        if reuse:
            self.cluster_id = _formatted_cluster_id(self.home / "data")
            return
        self.cluster_id = new_cluster_id()
        format_log = self.log_dir / "format.log"
        command = [
            java, "-Xmx256m", *self._log_props(), "-cp", f"{libs}/*", STORAGE_TOOL, "format",
            "-t", self.cluster_id, "-c", str(self.home / "config" / "server.properties"), "--standalone",
            *(format_arguments(self.security) if self.security is not None else []),
        ]  # fmt: skip
        with open(format_log, "wb") as out:
            result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT,
                                    timeout=self.limits.ceiling_s, check=False)
        if result.returncode != 0:
            raise KafkaStartError(
                f"formatting KRaft storage failed (exit {result.returncode}); log: {format_log}\n"
                f"{LOG_TAIL_MARK} ---\n{maven.tail(format_log)}"
            )

    def _log_props(self) -> list[str]:
        return [
            f"-Dkafka.logs.dir={self.log_dir}",
            f"-Dlog4j2.configurationFile={self.home / 'config' / 'log4j2.properties'}",
        ]

    def _launch(self, java: str, libs: Path) -> None:
        command = [
            java, "-Xms128m", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true", process.marker_arg(self.marker),
            *self._log_props(), "-cp", f"{libs}/*", MAIN_CLASS, str(self.home / "config" / "server.properties"),
        ]  # fmt: skip
        self._popen = process.spawn(command, cwd=self.home, output=self.stdout_path, tie_to_parent=self.tie_to_parent)
        self._launched()

    def _failure(self, what: str) -> KafkaStartError:
        return KafkaStartError(
            f"Kafka {self.version} broker {what}.\n"
            f"broker log: {self.log_path}\nJVM output: {self.stdout_path}\n"
            f"{LOG_TAIL_MARK} of {self.log_path.name} ---\n{maven.tail(self.log_path)}\n"
            f"{LOG_TAIL_MARK} of {self.stdout_path.name} ---\n{maven.tail(self.stdout_path, 10)}"
        )

    def _await_ready(self) -> None:
        assert self._popen is not None and self.port is not None
        watch = StartWatch(f"Kafka {self.version}", [self.log_path, self.stdout_path], self.limits)
        await_start(self._popen, self._probe, watch, self._failure)

    def _probe(self) -> str | None:
        """None once the broker answers metadata with its own cluster id; else what the probe saw."""
        assert self.port is not None
        if not is_listening(self.port):
            return "port never opened"
        try:
            cluster = wait_for_metadata(self.bootstrap_servers, timeout=10.0, **probe_options(self.security))
        except Exception as exc:  # noqa: BLE001 - any probe failure just means "not yet"
            return f"{type(exc).__name__}: {exc}"
        answered = cluster.get("cluster_id")
        if answered in (None, self.cluster_id) or self.cluster_id is None:
            return None
        raise self._failure(f"met {_ANOTHER_CLUSTER} {self.port} (cluster id {answered}, not its own)")


def _formatted_cluster_id(data: Path) -> str | None:
    """The cluster id ``StorageTool format`` wrote into ``data/meta.properties``; None when it cannot be read."""
    try:
        lines = (data / "meta.properties").read_text().splitlines()
    except OSError:
        return None
    return next((line.split("=", 1)[1].strip() for line in lines if line.startswith("cluster.id=")), None)


def wait_for_metadata(bootstrap_servers: str, timeout: float = 10.0, **options: Any) -> dict[str, Any]:
    """Run a real metadata request (aiokafka ``describe_cluster``) and return its answer (``options``: more
    aiokafka client options, e.g. the TLS of ``security.probe_options``).

    It runs on its own event loop in a worker thread so that it works from sync code and from code
    already inside a running loop (an async test) alike.
    """

    async def probe() -> dict[str, Any]:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap_servers, request_timeout_ms=max(1000, int(timeout * 1000)), **options
        )
        await admin.start()
        try:
            cluster: dict[str, Any] = await admin.describe_cluster()
        finally:
            await admin.close()
        if not cluster.get("brokers") or cluster.get("controller_id") in (None, -1):
            raise RuntimeError(f"cluster not settled yet: {cluster}")
        return cluster

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kafka-probe") as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(probe(), timeout)).result()
