"""Benchmark: how often arrival order decides the customers of Segment streams with e-mails in the mix (issue #8
point 4, "order must not decide").

    PYTHONPATH=$PWD .venv/bin/python -m tests.bench.identity_email_order --draws 500

Each draw is 1-9 Segment calls at distinct minutes on a small alphabet (anonymous ids ``x0``-``x2``, user ids
``u-0``-``u-2``, e-mails ``e0``/``e1``): identifies with an anonymous id and/or a user id and perhaps an e-mail,
aliases (15 %), anonymous page views. The draw is replayed through the identity graph (``graph/local.py``) in time
order, in a shuffled order (1 partition) and in the reverse of that order on 3 partitions with messages interleaved;
a draw *differs* when the three replays do not give the same customers (clusters of identifiers). Deterministic per
seed (draw ``i`` uses ``random.Random(first + i)``). The draws that differ are listed so that one can be replayed
(``--show SEED``). ``tests/processors/identity/graph/test_customer_join_order.py`` holds the cases this found.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from typing import Any

from tests.processors.identity.graph.test_alias import segment
from tests.processors.identity.graph.test_shared_browser import replay

ANONYMOUS, USERS, EMAILS = ("x0", "x1", "x2"), ("u-0", "u-1", "u-2"), ("e0@example.org", "e1@example.org")


def draw(rng: random.Random) -> list[dict[str, Any]]:
    """One stream of Segment calls (see the module docstring)."""
    calls: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 9)):
        anonymous = rng.choice([None, *ANONYMOUS])
        user = rng.choice([None, *USERS])
        email = rng.choice([None, None, *EMAILS])
        if rng.random() < 0.15 and user:
            calls.append({"type": "alias", "previousId": rng.choice(ANONYMOUS), "userId": user})
        elif user or email:
            call: dict[str, Any] = {"type": "identify", "anonymousId": anonymous or ("x9" if not user else None),
                                    "userId": user}
            calls.append({key: value for key, value in call.items() if value is not None}
                         | ({"traits": {"email": email}} if email else {}))
        else:
            calls.append({"type": "track", "event": "Viewed", "anonymousId": anonymous or "x0"})
    return calls


def differs(seed: int) -> bool:
    """Whether the three replays of draw ``seed`` give different customers."""
    rng = random.Random(seed)
    events = segment(*draw(rng))
    order = list(range(len(events)))
    rng.shuffle(order)
    in_time = replay(events, range(len(events))).local.clusters()
    shuffled = replay(events, order).local.clusters()
    interleaved = replay(events, order[::-1], partitions=3, seed=seed).local.clusters()
    return not in_time == shuffled == interleaved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--first", type=int, default=0, help="seed of the first draw")
    parser.add_argument("--show", type=int, default=None, help="print one draw's calls and its three replays")
    args = parser.parse_args()
    if args.show is not None:
        rng = random.Random(args.show)
        calls = draw(rng)
        for minute, call in enumerate(calls):
            print(minute, call)
        events = segment(*calls)
        order = list(range(len(events)))
        rng.shuffle(order)
        for name, h in (("time order", replay(events, range(len(events)))), (f"order {order}", replay(events, order)),
                        ("reversed, 3 partitions", replay(events, order[::-1], partitions=3, seed=args.show))):
            print(name, sorted(sorted(cluster) for cluster in h.local.clusters()))
        return
    started = time.monotonic()
    bad = [seed for seed in range(args.first, args.first + args.draws) if differs(seed)]
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}; {time.monotonic() - started:.0f} s")
    print(f"{len(bad)} of {args.draws} draws differ by order (seeds {args.first}-{args.first + args.draws - 1}): {bad}")


if __name__ == "__main__":
    main()
