"""The Kubernetes manifests name real commands and real settings, so a typo fails here, not in a pod."""

from pathlib import Path

import pytest
import typer.main
import yaml

from adapters.branch.config import BranchSettings
from adapters.call_center.config import CallCenterSettings
from adapters.legacy.config import LegacySettings
from adapters.web.config import WebSettings
from omnibus.cli import app
from bus.config import load_settings, unknown_environment_keys
from processors.handoffs.config import HandoffsSettings, load_policy
from processors.identity.config import IdentitySettings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
COMPONENTS = {
    "OMNIBUS_ADAPTER_WEB__": WebSettings, "OMNIBUS_ADAPTER_BRANCH__": BranchSettings,
    "OMNIBUS_ADAPTER_CALL_CENTER__": CallCenterSettings, "OMNIBUS_ADAPTER_LEGACY__": LegacySettings,
    "OMNIBUS_PROCESSOR_IDENTITY__": IdentitySettings, "OMNIBUS_PROCESSOR_HANDOFFS__": HandoffsSettings,
}


def documents() -> list[dict]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def containers() -> list[dict]:
    found = []
    for doc in documents():
        spec = doc.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        found.extend(pod.get("containers", []))
    return found


def env_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for doc in documents():
        for section in ("data", "stringData"):
            if doc.get("kind") in ("ConfigMap", "Secret"):
                names.update(doc.get(section) or {})
    for container in containers():
        for item in container.get("env", []):
            names[item["name"]] = item.get("value", "")
    return names


def test_every_kustomize_resource_exists() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource
    for generator in kustomization.get("configMapGenerator", []):
        for entry in generator["files"]:
            assert (K8S / entry.split("=")[-1]).is_file(), entry


@pytest.mark.parametrize("container", containers(), ids=lambda c: c["name"])
def test_container_arguments_name_a_real_command(container: dict) -> None:
    # typer vendors its own click: recognise groups by their sub-commands, not by class.
    command = typer.main.get_command(app)
    words = [w for w in container["args"] if not w.startswith("-")]
    for word in words:
        if not hasattr(command, "commands"):
            break
        assert word in command.commands, f"{word!r} is not a sub-command in {container['args']}"
        command = command.commands[word]
    assert not hasattr(command, "commands"), f"{container['args']} stops at a group"
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for flag in [w for w in container["args"] if w.startswith("--")]:
        assert flag in options, f"{flag} is not an option of {container['args']}"


def test_every_variable_names_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    names = env_names()
    assert unknown_environment_keys(names) == []
    for name in names:
        for prefix, model in COMPONENTS.items():
            if name.startswith(prefix):
                assert name[len(prefix):].lower() in model.model_fields, name
    for name, value in names.items():
        if not name.startswith(tuple(COMPONENTS)) and value:
            monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.topics.replication_factor == 3 and settings.registry.url


def test_the_deployed_handoff_policy_loads() -> None:
    policy = load_policy(K8S / "handoff-policy.yaml")
    assert policy.default_team
