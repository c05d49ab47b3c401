"""Prometheus alert rules and the Grafana dashboard, each declared once in Python and rendered to files."""
