#!/usr/bin/env bash
# Install what Omnibus needs on a fresh Debian machine: system packages (only the missing ones), then a
# virtualenv with the project and its test extras. Safe to run again; fast when nothing is missing.
# `bootstrap.sh --runtime` installs only what running Omnibus needs (scripts/demo.sh): Java and Maven for the
# local Kafka broker and registry, and the virtualenv with the project; no test extras, Go, kustomize, npm,
# the AsyncAPI CLI, Prometheus' promtool or PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
runtime=false
[ "${1:-}" = "--runtime" ] && runtime=true

need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
if ! $runtime; then
  command -v promtool >/dev/null || need+=(prometheus)
  [ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || need+=(golang-go)
  command -v npm >/dev/null || need+=(npm)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/pip ]; then
  # a venv without pip is one whose creation was interrupted: make it again
  "$python" -m venv --clear .venv
fi
# setuptools' editable install prints a BuildBackendWarning banner ("be careful with folders ... with the same
# name as your package") on every first run; it is advice for package authors, not for a user (tester9 #10)
quiet_build=(env PYTHONWARNINGS=ignore)
stamp=.venv/.omnibus-installed  # the project and its test extras
runtime_stamp=.venv/.omnibus-runtime-installed  # the project alone
if $runtime; then
  if { [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; } &&
     { [ ! -f "$runtime_stamp" ] || [ pyproject.toml -nt "$runtime_stamp" ]; }; then
    echo "bootstrap: installing Omnibus and its libraries into .venv (the first run takes a few minutes)" >&2
    .venv/bin/pip install -q --upgrade pip >/dev/null
    "${quiet_build[@]}" .venv/bin/pip install -q -e .
    touch "$runtime_stamp"
  fi
  exit 0
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing Omnibus and its test libraries into .venv (the first run takes a few minutes)" >&2
  .venv/bin/pip install -q --upgrade pip >/dev/null
  "${quiet_build[@]}" .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi

# kustomize builds the Kubernetes overlays in tests/deploy (no binary download: built from the Go module proxy).
kustomize_version=v5.5.0
if [ ! -x .tools/bin/kustomize ] || [ ! -f ".tools/kustomize-$kustomize_version" ]; then
  echo "bootstrap: building kustomize $kustomize_version into .tools/bin" >&2
  GOBIN="$PWD/.tools/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version"
  touch ".tools/kustomize-$kustomize_version"
fi

# The AsyncAPI CLI checks docs/asyncapi.yaml (tests/deploy/test_asyncapi.py), pinned by tools/asyncapi/package-lock.json.
# Installed once per lock file into the user's cache (about 5 minutes, 1.5 GB) and linked here, so a fresh
# clone on the same machine does not reinstall it.
lock_hash=$(sha256sum tools/asyncapi/package-lock.json | cut -c1-16)
asyncapi_home="${XDG_CACHE_HOME:-$HOME/.cache}/omnibus/asyncapi-$lock_hash"
if [ ! -x "$asyncapi_home/node_modules/.bin/asyncapi" ]; then
  echo "bootstrap: installing the AsyncAPI CLI into $asyncapi_home" >&2
  mkdir -p "$asyncapi_home"
  cp tools/asyncapi/package.json tools/asyncapi/package-lock.json "$asyncapi_home/"
  npm ci --prefix "$asyncapi_home" --no-audit --no-fund --loglevel=error >/dev/null
fi
if [ "$(readlink tools/asyncapi/node_modules 2>/dev/null)" != "$asyncapi_home/node_modules" ]; then
  rm -rf tools/asyncapi/node_modules
  ln -s "$asyncapi_home/node_modules" tools/asyncapi/node_modules
fi
