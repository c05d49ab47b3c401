"""The Kubernetes manifests name real commands and real settings, so a typo fails here, not in a pod."""

from __future__ import annotations

import base64
import os
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
from bus.identifiers.settings import IDENTITY_KEY_VARIABLE
from bus.sealing import SEAL_KEY_VARIABLE
from processors.handoffs.config import HandoffsSettings, load_policy
from processors.identity.config import IdentitySettings
from processors.kpis.config import KpisSettings
from processors.offers.config import OffersSettings
from tests.deploy.kustomize import K8S, OVERLAYS, ROOT, build, containers, of_kind

COMPONENTS = {
    "OMNIBUS_ADAPTER_WEB__": WebSettings, "OMNIBUS_ADAPTER_BRANCH__": BranchSettings,
    "OMNIBUS_ADAPTER_CALL_CENTER__": CallCenterSettings, "OMNIBUS_ADAPTER_LEGACY__": LegacySettings,
    "OMNIBUS_PROCESSOR_IDENTITY__": IdentitySettings, "OMNIBUS_PROCESSOR_HANDOFFS__": HandoffsSettings,
    "OMNIBUS_PROCESSOR_KPIS__": KpisSettings, "OMNIBUS_PROCESSOR_OFFERS__": OffersSettings,
}


def env_names(overlay: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for doc in of_kind(build(overlay), "ConfigMap", "Secret"):
        if _unhashed_name(doc) in ("omnibus-config", "omnibus-secrets"):
            data = doc.get("data") or {}
            if doc["kind"] == "Secret":  # a Secret's data is base64 (a generated one's name ends with its hash)
                data = {name: base64.b64decode(value).decode() for name, value in data.items()}
            names.update(data)
    for container in containers(build(overlay)):
        for item in container.get("env", []):
            names[item["name"]] = item.get("value", "")
    return names


def _unhashed_name(doc: dict) -> str:
    """A resource's name without the hash suffix kustomize's generators append (``omnibus-secrets-m5dk7mcbtg``)."""
    name: str = doc["metadata"]["name"]
    stem, _, suffix = name.rpartition("-")
    return stem if stem and len(suffix) == 10 and suffix.isalnum() and suffix.islower() else name


def test_every_kustomize_resource_exists() -> None:
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (K8S / "base" / resource).is_file(), resource


@pytest.mark.parametrize("container", containers(build("prod")), ids=lambda c: c["name"])
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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_names_a_setting(overlay: str, monkeypatch: pytest.MonkeyPatch) -> None:
    names = env_names(overlay)
    assert unknown_environment_keys(names) == []
    for name in names:
        for prefix, model in COMPONENTS.items():
            if name.startswith(prefix):
                assert name[len(prefix):].lower() in model.model_fields, name
    for name, value in names.items():
        if not name.startswith(tuple(COMPONENTS)) and value:
            monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.registry.url and settings.kafka.sasl_mechanism == "SCRAM-SHA-512"
    assert settings.topics.replication_factor == (1 if overlay == "dev" else 3)


def test_the_deployed_handoff_policy_loads() -> None:
    policy = load_policy(K8S / "base" / "handoff-policy.yaml")
    assert policy.default_team


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("adapter", ["web", "branch", "call-center"])
def test_every_http_adapter_pod_keeps_its_dedupe_file_on_a_volume(overlay: str, adapter: str) -> None:
    """tester11 #1: the prod overlay ran two replicas per adapter with no dedupe path and no volume."""
    deployment = next(doc for doc in of_kind(build(overlay), "Deployment")
                      if doc["metadata"]["name"] == f"omnibus-adapter-{adapter}")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    prefix = f"OMNIBUS_ADAPTER_{adapter.upper().replace('-', '_')}__"
    path = next(item["value"] for item in container["env"] if item["name"] == f"{prefix}DEDUPE_PATH")
    mount = next(m for m in container["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/"))
    assert mount["name"] in {volume["name"] for volume in pod["volumes"]}


def state_dirs(container: dict, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, cwd: Path) -> list[Path]:
    """Where the container's command keeps local state, as the code decides it from the image's and the container's
    environment: the legacy adapter's state dir (``LegacySettings.state_dir``, ``--state-dir``), an HTTP adapter's
    dedupe file (``adapters.base.config.dedupe_file``, whatever ``--workers``: tester11 #1), an identity worker's
    data directory under ``TMPDIR`` when its contact records are on disk (``bus.app.private_datadir``)."""
    from adapters.base.config import AdapterSettings, dedupe_file

    args = container["args"]
    monkeypatch.chdir(cwd)  # not the repository: default_state_dir() looks for a former ./.omnibus/legacy
    for key in [k for k in os.environ if k.startswith("OMNIBUS_") or k == "XDG_STATE_HOME"]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if args[:2] == ["adapter", "legacy"]:
        given = args[args.index("--state-dir") + 1] if "--state-dir" in args else None
        settings = LegacySettings(**({"state_dir": given} if given else {}))
        if not given and (configured := env.get("OMNIBUS_ADAPTER_LEGACY__STATE_DIR")):
            settings = LegacySettings(state_dir=configured)
        return [Path(settings.state_dir)]
    if args[:2] in (["adapter", "web"], ["adapter", "branch"], ["adapter", "call-center"]):
        prefix = f"OMNIBUS_ADAPTER_{args[1].upper().replace('-', '_')}__"
        adapter = AdapterSettings(port=int(env.get(f"{prefix}PORT", "8080")), dedupe_path=env.get(f"{prefix}DEDUPE_PATH"),
                                  dedupe_in_memory=env.get(f"{prefix}DEDUPE_IN_MEMORY", "false") == "true")
        path = dedupe_file(args[1].replace("-", "_"), adapter)
        return [path.parent] if path else []
    if args[:2] == ["identity", "run"]:  # the contacts' RocksDB, in the worker's data directory under TMPDIR
        store = env.get("OMNIBUS_PROCESSOR_IDENTITY__CONTACTS_STORE",
                        IdentitySettings.model_fields["contacts_store"].default)
        return [Path(env.get("TMPDIR") or "/tmp")] if store != "memory" else []
    return []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_that_keeps_local_state_has_a_writable_volume_there(
    overlay: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """tester10: the legacy relay's state dir ($XDG_STATE_HOME/omnibus/legacy) was not writable in the image, and no
    manifest gave it a volume (a container's own filesystem is lost with it anyway)."""
    from tests.test_dockerfile import image_env

    checked = 0
    for workload in of_kind(build(overlay), "Deployment", "StatefulSet"):
        pod = workload["spec"]["template"]["spec"]
        claims = {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
        volumes = {v["name"] for v in pod.get("volumes", [])} | claims
        for container in pod["containers"]:
            env = {**image_env(), **{e["name"]: e["value"] for e in container.get("env", []) if "value" in e}}
            for state in state_dirs(container, env, monkeypatch, tmp_path):
                checked += 1
                mounts = [m for m in container.get("volumeMounts", []) if m["name"] in volumes
                          and not m.get("readOnly") and state.is_relative_to(m["mountPath"])]
                assert mounts, f"{workload['metadata']['name']}: no writable volume holds {state}"
    assert checked, "no container keeps local state: the legacy relay does"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_identity_worker_requests_the_ephemeral_storage_its_contact_records_take(overlay: str) -> None:
    """The contact records moved from the heap to RocksDB on local disk (#9 memory): a pod that requests no
    ephemeral storage is placed on a node without room for them and evicted when the node runs short."""
    identity = next(doc for doc in of_kind(build(overlay), "StatefulSet")
                    if doc["metadata"]["name"] == "omnibus-identity")
    resources = identity["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert "ephemeral-storage" in resources["requests"] and "ephemeral-storage" in resources["limits"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_a_liveness_probe_on_a_path_it_serves(overlay: str) -> None:
    """tester11 #8: the legacy relay had no probe at all, so a wedged relay was never restarted. Its /live is served
    on the metrics port (``bus.metrics.serve_metrics`` with the relay's heartbeat); the others on their own port."""
    from bus.readiness import LIVE_PATH

    for container in containers(build(overlay)):
        probe = container.get("livenessProbe")
        assert probe, f"{container['name']} has no livenessProbe"
        path, port = probe["httpGet"]["path"], probe["httpGet"]["port"]
        assert port in {p["name"] for p in container.get("ports", [])}, (container["name"], port)
        if port == "metrics":  # the metrics port serves /metrics and, with a heartbeat, /live only
            assert path == LIVE_PATH and container["args"][:3] == ["adapter", "legacy", "relay"], container["name"]


PROD_KUSTOMIZATION = K8S / "overlays" / "prod" / "kustomization.yaml"


def test_the_prod_overlay_names_every_secret_the_dev_overlay_generates() -> None:
    """The prod Secret is made out of band from the list in the overlay's header: a secret missing there is missing in
    production (the dead letters' seal key was: refused HTTP bodies could not be re-driven corrected)."""
    header = "".join(line for line in PROD_KUSTOMIZATION.read_text().splitlines(keepends=True) if line.startswith("#"))
    generated = _dev_secret_names()
    assert {SEAL_KEY_VARIABLE, IDENTITY_KEY_VARIABLE} <= generated
    assert not [name for name in generated if name not in header]


def _dev_secret_names() -> set[str]:
    return {name for doc in of_kind(build("dev"), "Secret") if _unhashed_name(doc) == "omnibus-secrets"
            for name in doc.get("data") or {}}


def test_the_prod_overlay_ships_a_public_base_url_the_call_center_adapter_refuses_to_start_with() -> None:
    """tester35 F12: the prod overlay shipped https://call-center.example.com, and an operator applying it as is got
    every TaskRouter callback refused. It ships the placeholder the settings refuse (exit 2, naming the overlay)."""
    from adapters.call_center.config import PROD_OVERLAY, PUBLIC_BASE_URL_PLACEHOLDER

    assert PROD_KUSTOMIZATION == ROOT / PROD_OVERLAY
    (value,) = [item.get("value") for container in containers(build("prod")) for item in container.get("env", [])
                if item["name"] == "OMNIBUS_ADAPTER_CALL_CENTER__PUBLIC_BASE_URL"]
    assert value == PUBLIC_BASE_URL_PLACEHOLDER
    with pytest.raises(ValueError, match="still the placeholder"):
        CallCenterSettings(sites={"a": {"access_keys": ["k"]}}, public_base_url=value)
