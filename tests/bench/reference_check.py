"""CPU per call of the reference check (``References.is_reference``) on the values a web property holds.

    .venv/bin/python -m tests.bench.reference_check [--calls 300] [--repeat 5]

For each deployment (no phone region with cn.ric, the defaults; FR with fr.nir, a French deployment's) and each
value of ``VALUES``: µs per call, least of ``--repeat`` loops of ``--calls`` calls (``timeit``). Prints one line per
deployment, the values in ``VALUES`` order. Results: tests/bench/results/web_ingest.md.
"""

from __future__ import annotations

import argparse
import timeit
from functools import partial

from bus.references import REFERENCE_PATH, References

VALUES = ("BILL-2024-04-000123", "ORD-2026-000123", "ajs-next-1714638732004", "ref-FR7630006000011234567890189",
          "3f2a9c4e-1b7d-4e0a-9c55-446655440000",
          "web:portal-web:ajs-next-1714638732004-4f1a9e0c-5d6b-4b4e-8a1c-2f3e4d5c6b7a")
DEPLOYMENTS = {"defaults (no region, cn.ric)": (None, ("cn.ric",)), "FR (fr.nir)": ("FR", ("fr.nir",))}


def per_call_us(calls: int, repeat: int) -> dict[str, list[float]]:
    """µs per ``is_reference`` call of each value of ``VALUES``, per deployment (least of ``repeat`` loops)."""
    figures = {}
    for name, (region, schemes) in DEPLOYMENTS.items():
        check = References((), region=region, national_id_schemes=schemes).is_reference
        figures[name] = [min(timeit.repeat(partial(check, value, REFERENCE_PATH), number=calls, repeat=repeat))
                         / calls * 1e6 for value in VALUES]
    return figures


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.reference_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    figures = per_call_us(args.calls, args.repeat)
    for name, row in figures.items():
        print(f"{name}: " + " ".join(f"{figure:.1f}" for figure in row) + " µs per call")
    return figures


if __name__ == "__main__":
    main()
