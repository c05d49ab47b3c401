"""Generators of the deployment files (alert rules, dashboard, Kubernetes topics, AsyncAPI): ``python -m deploy``."""
