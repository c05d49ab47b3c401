#!/usr/bin/env bash
# Run the whole middleware on a local Kafka broker with demo traffic, then stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --runtime  # Java, Maven and the venv: the demo needs no test tools
exec .venv/bin/omnibus demo "$@"
