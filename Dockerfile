# Omnibus processes (adapters, processors, CLI) for users who run containers. The tested path is
# scripts/demo.sh and scripts/test.sh on a plain machine; this image is the same package, installed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY omnibus omnibus
COPY bus bus
COPY adapters adapters
COPY processors processors
COPY schemas schemas
COPY demo demo
# Local state (the legacy adapter's poller positions, batch-import checkpoints and dedupe file; an adapter's shared
# dedupe file with --workers N) goes to $XDG_STATE_HOME/omnibus (adapters/base/config.py state_home): a directory
# the unprivileged user owns, and a volume, so it outlives the container. Mount your own volume there
# (deploy/k8s/base/adapter-legacy.yaml does).
ENV XDG_STATE_HOME=/var/lib/omnibus/state
RUN pip install . && useradd --system --uid 10001 omnibus \
    && install -d -o omnibus -g omnibus -m 0750 /var/lib/omnibus /var/lib/omnibus/state
VOLUME ["/var/lib/omnibus/state"]
USER omnibus
# Every process serves Prometheus metrics here (OMNIBUS_METRICS__PORT).
EXPOSE 9464
ENTRYPOINT ["omnibus"]
CMD ["--help"]
