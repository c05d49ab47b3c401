"""Building the kustomize overlays offline, with the kustomize binary scripts/bootstrap.sh installs."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
LOCAL_BINARY = ROOT / ".tools" / "bin" / "kustomize"  # `go install` target of scripts/bootstrap.sh


def kustomize_command() -> list[str]:
    if LOCAL_BINARY.is_file():
        return [str(LOCAL_BINARY), "build"]
    if found := shutil.which("kustomize"):
        return [found, "build"]
    if found := shutil.which("kubectl"):
        return [found, "kustomize"]
    raise AssertionError("no kustomize: run scripts/bootstrap.sh (it installs .tools/bin/kustomize with go)")


@functools.cache
def build(overlay: str) -> tuple[dict, ...]:
    """The documents ``kustomize build deploy/k8s/overlays/<overlay>`` prints."""
    result = subprocess.run([*kustomize_command(), str(K8S / "overlays" / overlay)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(docs: tuple[dict, ...], *kinds: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] in kinds]


def workloads(docs: tuple[dict, ...]) -> list[dict]:
    return of_kind(docs, "Deployment", "StatefulSet")


def containers(docs: tuple[dict, ...]) -> list[dict]:
    return [container for workload in workloads(docs) for container in workload["spec"]["template"]["spec"]["containers"]]
