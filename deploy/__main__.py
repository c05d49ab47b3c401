"""Write every generated deployment file, or with ``--check`` fail when one is not current.

``python -m deploy`` (from the repository root) renders: the alert rules (plain and ``PrometheusRule``),
the Grafana dashboard, the Strimzi ``KafkaTopic`` and ``KafkaUser`` resources, the AsyncAPI document and the
processors' OpenAPI documents (``docs/openapi/``: identity's screen pop, the offers query).
Exit status 1 with ``--check`` lists the stale files.
"""

from __future__ import annotations

import sys

from deploy.outputs import stale, write_all


def main(argv: list[str]) -> int:
    if "--check" in argv:
        outdated = stale()
        for path in outdated:
            print(f"not current: {path} (run: python -m deploy)", file=sys.stderr)
        return 1 if outdated else 0
    for path in write_all():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
