"""KPIs computed once, from the unified stream (issue #12): see ``docs/kpis.md`` for every definition."""
