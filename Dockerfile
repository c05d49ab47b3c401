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
RUN pip install . && useradd --system --uid 10001 omnibus
USER omnibus
# Every process serves Prometheus metrics here (OMNIBUS_METRICS__PORT).
EXPOSE 9464
ENTRYPOINT ["omnibus"]
CMD ["--help"]
