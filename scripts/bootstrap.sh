#!/usr/bin/env bash
# Install what Omnibus needs on a fresh Debian machine: system packages (only the missing ones), then a
# virtualenv with the project and its test extras. Safe to run again; fast when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v promtool >/dev/null || need+=(prometheus)
[ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || need+=(golang-go)
command -v npm >/dev/null || need+=(npm)
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.omnibus-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi

# kustomize builds the Kubernetes overlays in tests/deploy (no binary download: built from the Go module proxy).
kustomize_version=v5.5.0
if [ ! -x .tools/bin/kustomize ] || [ ! -f ".tools/kustomize-$kustomize_version" ]; then
  echo "bootstrap: building kustomize $kustomize_version into .tools/bin" >&2
  GOBIN="$PWD/.tools/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version"
  touch ".tools/kustomize-$kustomize_version"
fi

# The AsyncAPI CLI checks docs/asyncapi.yaml (tests/deploy/test_asyncapi.py): pinned by tools/asyncapi/package-lock.json.
if [ ! -x tools/asyncapi/node_modules/.bin/asyncapi ] || [ tools/asyncapi/package-lock.json -nt tools/asyncapi/node_modules/.installed ]; then
  echo "bootstrap: installing the AsyncAPI CLI into tools/asyncapi/node_modules" >&2
  npm ci --prefix tools/asyncapi --no-audit --no-fund --loglevel=error >/dev/null
  touch tools/asyncapi/node_modules/.installed
fi
