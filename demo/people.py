"""Synthetic customers, each known to every channel by a different identifier."""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = ["Amira", "Bruno", "Chen", "Dana", "Emil", "Fatou", "Goran", "Hana", "Ines", "Jonas", "Kira", "Liam"]
LAST = ["Martin", "Nguyen", "Okafor", "Petit", "Quinn", "Rossi", "Silva", "Tanaka", "Urban", "Varga"]
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def resident_id(body17: str) -> str:
    """An 18-character resident ID with its ISO 7064 MOD 11-2 check character."""
    total = sum(int(digit) * weight for digit, weight in zip(body17, ID_WEIGHTS, strict=True))
    return body17 + ID_CHECK[total % 11]


@dataclass(frozen=True)
class DemoCustomer:
    index: int
    name: str
    email: str      # what the web hall knows
    phone: str      # what the call center knows (E.164)
    national_id: str  # what the counter sees on the ID card
    account: str    # what billing knows
    user_id: str    # the portal login
    birth_date: str = ""  # ISO date, printed on the ID card (also inside the resident ID)

    @property
    def tier(self) -> str:
        return "gold" if self.index % 5 == 0 else "standard"


def customers(count: int, seed: int = 7) -> list[DemoCustomer]:
    rng = random.Random(seed)
    people = []
    for index in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        birth = f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        people.append(
            DemoCustomer(
                index=index,
                name=f"{first} {last}",
                email=f"{first}.{last}{index}@example.com".lower(),
                phone=f"+3361{rng.randint(0, 9_999_999):07d}",
                national_id=resident_id(f"110105{birth}{rng.randint(0, 999):03d}"),
                account=f"ACC-{100000 + index}",
                user_id=f"u-{index + 1001:05d}",
                birth_date=f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
            )
        )
    return people
