"""Fetch the local stack's Java artifacts from Maven Central with the machine's own ``mvn``.

Kafka is resolved from a tiny throw-away pom kept in ``bus/stack/poms/`` (Apicurio is a single
archive, fetched by coordinates) into
``<cache>/<component>-<version>/libs`` (cache: env ``OMNIBUS_STACK_CACHE``, default
``~/.cache/omnibus``), never inside the repository. A ``.complete`` marker listing the fetched
files is written only after ``mvn`` succeeded, so an interrupted fetch is redone and a complete one
is skipped without starting Maven at all. A file lock makes concurrent fetches (two test sessions,
``omnibus stack up`` during a test run) wait for each other instead of racing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from bus.errors import LOG_TAIL_MARK, LocalStackError

#: Pinned so that a fetch does not depend on whatever plugin version the local Maven defaults to.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
#: 2.8 is the last ``get`` that still honours ``-Ddest`` (a target directory).
GET_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:2.8"
MARKER = ".complete"


class MavenError(LocalStackError):
    """Maven (or Java) is missing, or an artifact could not be resolved."""


def cache_root() -> Path:
    """Where fetched artifacts live: ``$OMNIBUS_STACK_CACHE`` or ``~/.cache/omnibus``."""
    configured = os.environ.get("OMNIBUS_STACK_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "omnibus"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_complete(directory: Path) -> bool:
    """True when ``directory`` holds a marker and every file the marker lists."""
    marker = directory / MARKER
    if not marker.is_file():
        return False
    try:
        names = json.loads(marker.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(names) and all((directory / name).is_file() for name in names)


def mark_complete(directory: Path) -> None:
    """Record the files now in ``directory`` as a complete fetch."""
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and p.name != MARKER)
    (directory / MARKER).write_text(json.dumps({"files": names}, indent=1))


def fetch(component: str, version: str, pom_name: str, *, timeout: float = 1200.0) -> Path:
    """A runnable classpath: ``<cache>/<component>-<version>/libs``, resolved by ``mvn`` if not complete.

    ``pom_name`` is a file in ``bus/stack/poms`` whose ``@VERSION@`` is replaced by ``version``;
    its dependencies and their transitive runtime dependencies are copied flat into ``libs``.
    """

    def command(mvn: str, home: Path, staging: Path) -> list[str]:
        template = resources.files("bus.stack.poms").joinpath(pom_name).read_text()
        pom = home / "pom.xml"
        pom.write_text(template.replace("@VERSION@", version))
        return [
            mvn, "-q", "-B", "-f", str(pom), f"{DEPENDENCY_PLUGIN}:copy-dependencies",
            f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
        ]  # fmt: skip

    return _fetch(component, version, command, timeout)


def fetch_artifact(component: str, version: str, coordinates: str, *, timeout: float = 1200.0) -> Path:
    """One artifact (``group:artifact:version:type:classifier``) into ``<cache>/<component>-<version>/libs``.

    Uses ``dependency:get`` 2.8 with ``transitive=false``, which does not need the artifact's pom
    hierarchy: Apicurio's distribution archive is served while its parent pom is not (here).
    """

    def command(mvn: str, home: Path, staging: Path) -> list[str]:
        staging.mkdir(parents=True)
        return [
            mvn, "-q", "-B", f"{GET_PLUGIN}:get", f"-Dartifact={coordinates}",
            "-Dtransitive=false", f"-Ddest={staging}/",
        ]  # fmt: skip

    return _fetch(component, version, command, timeout)


def _fetch(
    component: str, version: str, build_command: Callable[[str, Path, Path], list[str]], timeout: float
) -> Path:
    if not re.fullmatch(r"[0-9A-Za-z.+_-]+", version):
        raise MavenError(f"refusing suspicious {component} version {version!r}")
    home = cache_root() / f"{component}-{version}"
    libs = home / "libs"
    if is_complete(libs):
        return libs
    with locked(home.with_name(home.name + ".lock")):
        if is_complete(libs):  # another process finished it while we waited for the lock
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise MavenError(
                "Maven ('mvn') is not on PATH; it is needed once to fetch "
                f"{component} {version} from Maven Central into {home}. "
                "Install it (Debian: apt-get install maven, or run scripts/bootstrap.sh)."
            )
        home.mkdir(parents=True, exist_ok=True)
        staging = home / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(libs, ignore_errors=True)
        command = build_command(mvn, home, staging)
        log = home / "mvn.log"
        try:
            with open(log, "w") as out:
                result = subprocess.run(
                    command, cwd=home, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
                )
        except subprocess.TimeoutExpired as exc:
            raise MavenError(
                f"mvn did not finish fetching {component} {version} within {timeout:.0f}s; "
                f"see {log}. Is Maven Central reachable?"
            ) from exc
        if result.returncode != 0 or not staging.is_dir() or not any(staging.iterdir()):
            raise MavenError(
                f"mvn failed (exit {result.returncode}) to fetch {component} {version} from Maven Central.\n"
                f"command: {' '.join(command)}\nlog: {log}\n{LOG_TAIL_MARK} ---\n{tail(log)}"
            )
        staging.rename(libs)
        mark_complete(libs)
    return libs


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a text file, or a note that it does not exist."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def java_executable() -> str:
    """``$JAVA_HOME/bin/java`` if set, else ``java`` on PATH; a clear error if neither exists."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise MavenError(
            "Java is not installed (no JAVA_HOME, no 'java' on PATH); Kafka 4 and Apicurio need Java 17+. "
            "Debian: apt-get install openjdk-17-jre-headless (or run scripts/bootstrap.sh)."
        )
    return found


def java_major_version(java: str | None = None) -> int:
    """The major version of the Java runtime (17 for ``17.0.15``)."""
    result = subprocess.run(
        [java or java_executable(), "-version"], capture_output=True, text=True, timeout=60, check=False
    )
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        raise MavenError(f"could not read the Java version from: {result.stderr.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major
