"""A Confluent-compatible schema registry for local use: Apicurio Registry, from Maven Central.

Apicurio Registry publishes its built Quarkus application on Maven Central as
``io.apicurio:apicurio-registry-app:<version>:tar.gz:all``. For 3.0.x that archive holds
``apicurio-registry-app-<version>-runner.jar`` plus ``lib/``, started with plain
``java -jar ...-runner.jar``; it serves the Confluent Schema Registry API at ``/apis/ccompat/v7``
(what confluent-kafka's ``SchemaRegistryClient`` talks to). It needs no Kafka. Apicurio's own default store is an
in-memory H2 database; here it is an H2 file under ``<state_dir>/registry/db`` (``h2_url``: written at each commit,
proof against the pool's interrupts), so a registry killed with ``kill -9`` comes back with every schema it
acknowledged, under the same ids, unless ``keep_data`` is false (then each start is empty). Apicurio documents
PostgreSQL or KafkaSQL for production; this file store is for the development stack only.

The archive is fetched by coordinates with ``dependency:get -Dtransitive=false`` (see
``maven.fetch_artifact``): the Maven Central served here has the archive but not Apicurio's parent
pom, so any resolution that reads the artifact's pom hierarchy fails.

Default version 3.0.9: the newest 3.0.x. The newer 3.3.x archives are compiled for Java 21
(class file 65) and fail on the project's Java 17 with ``UnsupportedClassVersionError``; with a
Java 21 runtime, ``OMNIBUS_APICURIO_VERSION=3.3.3`` may be tried (its archive uses Quarkus'
``quarkus-run.jar`` layout, which ``_runner_jar`` also finds).

Ports: like the broker (``bus.stack.kafka``), Apicurio binds the port it is given and cannot be handed a socket. Its
port is held from its choice until the registry is ready (``bus.stack.ports.start_on_held_ports``, Vert.x binds with
``SO_REUSEADDR``); a start that lost it anyway (``_PORT_TAKEN_LINES`` in its log) starts again on another when the port
was left to it, each retry logged; a given port another process listens on fails the start naming it. A registry
started again keeps the port of its first start: its clients know that URL.

``RegistryUnavailable`` is raised only when this machine cannot run the registry at all (no Maven,
the artifact cannot be fetched, Java too old); any other failure is a ``RegistryStartError``, so
that tests fail loudly instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bus.errors import LOG_TAIL_MARK
from bus.stack import maven, process
from bus.stack.ports import HOST, PortTaken, is_listening, start_on_held_ports
from bus.stack.startup import StartLimits, StartWatch, await_start

DEFAULT_VERSION = os.environ.get("OMNIBUS_APICURIO_VERSION", "3.0.9")
CCOMPAT_PATH = "/apis/ccompat/v7"
# What the registry's log says when its port is taken: the JVM's words, and Quarkus' own (3.0.x logs only these).
_PORT_TAKEN_LINES = ("Address already in use", "seems to be in use by another process")


class RegistryUnavailable(process.StackError):
    """This machine cannot run the schema registry (the reason says what is missing)."""


class RegistryStartError(process.StackError):
    """The registry was runnable but did not start or become ready; carries its log tail."""


def fetch(version: str = DEFAULT_VERSION) -> Path:
    """The unpacked Apicurio application for ``version`` (fetched and unpacked once, cached)."""
    app = maven.cache_root() / f"apicurio-registry-{version}" / "app"
    if maven.is_complete(app):
        return app
    try:
        libs = maven.fetch_artifact(
            "apicurio-registry", version, f"io.apicurio:apicurio-registry-app:{version}:tar.gz:all"
        )
    except maven.MavenError as exc:
        raise RegistryUnavailable(f"could not fetch Apicurio Registry {version}: {exc}") from exc
    with maven.locked(app.with_name("app.lock")):
        if maven.is_complete(app):
            return app
        archives = sorted(libs.glob("apicurio-registry-app-*-all.tar.gz"))
        if not archives:
            raise RegistryUnavailable(f"no apicurio-registry-app-*-all.tar.gz in {libs}; delete {libs} and retry")
        staging = app.with_name("app.partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(app, ignore_errors=True)
        with tarfile.open(archives[0]) as archive:
            archive.extractall(staging, filter="data")
        runner = _runner_jar(staging)
        staging.rename(app)
        (app / maven.MARKER).write_text(json.dumps({"files": [runner.name]}))
        shutil.rmtree(libs)  # the unpacked tree is what runs; do not keep the archive twice
    return app


def h2_url(database: Path) -> str:
    """The JDBC URL of the registry's on-disk H2 database ``database`` (``.mv.db`` appended by H2), set so that a
    ``kill -9`` loses nothing the registry acknowledged and cannot leave a store that no longer opens.

    * ``WRITE_DELAY=0``: H2's MVStore writes committed changes from a background thread once a second
      (``MVStore.setAutoCommitDelay``, default 1000 ms; ``SET WRITE_DELAY``); a registry killed in that second lost
      schemas it had already answered with an id, and the restarted registry gave the same ids to the next schemas,
      so records written with the lost ids decoded with another schema (M5, reproduced). With 0 every commit is
      written before the registration is answered (``TransactionStore.endTransaction`` commits the store).
    * ``retry:``: a thread interrupted in the middle of file I/O closes the JVM's ``FileChannel`` for every thread
      (``ClosedByInterruptException``); H2 then fails every read with ``Reading from file ... failed ... (length
      -1)``, the length being unknown because the channel is closed, and the registry exits during start-up (the
      tester's ``registry.log``). H2's ``retry:`` file system (``FilePathRetryOnInterrupt``) reopens the file and
      retries the operation instead.
    """
    return f"jdbc:h2:retry:{database};WRITE_DELAY=0"


def _runner_jar(app: Path) -> Path:
    for candidate in [app / "quarkus-run.jar", *sorted(app.glob("*-runner.jar"))]:
        if candidate.is_file():
            return candidate
    raise RegistryUnavailable(f"no runnable jar (quarkus-run.jar / *-runner.jar) in {app}")


class SchemaRegistryServer(process.OwnedServer):
    """Apicurio Registry on 127.0.0.1 with the same start/stop discipline as ``KafkaBroker``."""

    def __init__(
        self,
        state_dir: Path,
        port: int | None = None,
        version: str = DEFAULT_VERSION,
        *,
        heap: str = "384m",
        limits: StartLimits | None = None,
        tie_to_parent: bool = True,
        keep_data: bool = False,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()  # the registry runs with cwd=home
        self.keep_data = keep_data
        self.home = self.state_dir / "registry"
        self.version = version
        self.heap = heap
        self.limits = limits or StartLimits.from_environment()
        self.tie_to_parent = tie_to_parent
        self._requested_port = port
        self.port: int | None = port
        self.marker = process.new_marker()
        self._popen: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RegistryStartError("the registry has no port yet: call start() first")
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """What a Confluent client is given as ``url``: the ccompat v7 API root."""
        return self.base_url + CCOMPAT_PATH

    @property
    def log_path(self) -> Path:
        return self.home / "logs" / "registry.log"

    @property
    def database(self) -> Path:
        """Where the registry's H2 database lives (``.mv.db`` beside it): on disk, so a registry restarted
        after a crash serves the same schema ids and the records already on the topics stay readable."""
        return self.home / "db" / "registry"

    def describe(self) -> dict[str, Any]:
        """What ``stack.json`` records about this registry."""
        return {
            "version": self.version,
            "pid": self.pid,
            "marker": self.marker,
            "port": self.port,
            "url": self.url,
            "log_path": str(self.log_path),
        }

    def start(self) -> SchemaRegistryServer:
        """Fetch (cached), launch and wait until ``GET <url>/subjects`` answers 200."""
        if self.is_running():
            return self
        try:
            java = maven.java_executable()
        except maven.MavenError as exc:
            raise RegistryUnavailable(str(exc)) from exc
        app = fetch(self.version)
        began = time.monotonic()
        try:
            start_on_held_ports([self._requested_port], lambda ports: self._start_on(java, app, ports[0]),
                                server="registry", lost=self._port_taken)
        except PortTaken as taken:
            raise RegistryStartError(str(taken)) from taken
        self._requested_port = self.port  # a restart keeps the URL its clients know
        self.startup_seconds = time.monotonic() - began
        return self

    def _start_on(self, java: str, app: Path, port: int) -> None:
        """Launch on ``port`` and wait until ready; a failed wait stops the registry first."""
        self.port = port
        self._launch(java, app)
        self._await_ready_or_stop()

    def _port_taken(self, failure: Exception) -> bool:
        """Whether ``failure`` (a start that did not become ready) came from a port another process bound first."""
        logged = maven.tail(self.log_path, 200)
        return isinstance(failure, RegistryStartError) and any(line in logged for line in _PORT_TAKEN_LINES)

    def _launch(self, java: str, app: Path) -> None:
        tmp = self.home / "tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if not self.keep_data:
            shutil.rmtree(self.database.parent, ignore_errors=True)
        self.database.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(b"")
        command = [
            java, "-Xms64m", f"-Xmx{self.heap}", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            process.marker_arg(self.marker), f"-Djava.io.tmpdir={tmp}",
            f"-Dquarkus.http.host={HOST}", f"-Dquarkus.http.port={self.port}",
            f"-Dapicurio.storage.snapshot.location={tmp}", f"-Dapicurio.import.work-dir={tmp}",
            # Apicurio 3's default is an in-memory H2 database (application.properties: jdbc:h2:mem:db_<uuid>).
            f"-Dapicurio.datasource.url={h2_url(self.database)}",
            # The default pool opens 20 H2 connections up front; a local registry needs a few.
            "-Dapicurio.datasource.jdbc.initial-size=2", "-Dapicurio.datasource.jdbc.min-size=2",
            # Opening the H2 file after a crash may take longer than Quarkus' default 5 s on a loaded machine: the pool
            # then gave up, interrupting the thread that was reading the store, and the registry exited (M5).
            f"-Dquarkus.datasource.h2.jdbc.acquisition-timeout={self.limits.ceiling_s:.0f}S",
            "-Dquarkus.log.console.color=false",
            "-jar", str(_runner_jar(app)),
        ]  # fmt: skip
        self._popen = process.spawn(command, cwd=self.home, output=self.log_path, tie_to_parent=self.tie_to_parent)
        self._launched()

    def _failure(self, what: str) -> process.StackError:
        log = maven.tail(self.log_path, 40)
        kind = RegistryUnavailable if "UnsupportedClassVersionError" in log else RegistryStartError
        hint = (
            f"\nApicurio {self.version} needs a newer Java than {maven.java_executable()}; "
            "use OMNIBUS_APICURIO_VERSION=3.0.9 (Java 17) or install Java 21."
            if kind is RegistryUnavailable
            else ""
        )
        return kind(
            f"Apicurio Registry {self.version} {what}.{hint}\nlog: {self.log_path}\n"
            f"{LOG_TAIL_MARK} ---\n{log}"
        )

    def _await_ready(self) -> None:
        assert self._popen is not None and self.port is not None
        watch = StartWatch(f"Apicurio Registry {self.version}", [self.log_path], self.limits)
        await_start(self._popen, self._probe, watch, self._failure, poll_s=0.2)

    def _probe(self) -> str | None:
        """None once ``/subjects`` answers 200; else what the probe saw."""
        assert self.port is not None
        if not is_listening(self.port):
            return "port never opened"
        try:
            with urllib.request.urlopen(self.url + "/subjects", timeout=5) as response:
                return None if response.status == 200 else f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
