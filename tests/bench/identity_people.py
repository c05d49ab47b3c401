"""Labelled people for the identity-quality benchmark: faker persons, their channel records, corruption.

``population(n, seed)`` returns ``Record``s, each one channel message of one person (``person`` is the
label), as the channel would send it: a web ``identify`` (Segment, traits with the standard keys) or
a counter ``transaction`` (identifiers only: the branch mapper passes no traits yet, issue #8 item 6).
The population has what breaks identity resolution:

* typos in names, addresses and e-mails; given and family name swapped; missing traits;
  a birth date with one digit wrong or day and month transposed; a mistyped account number;
* namesakes (same given and family name, another birth date and address);
* people with two accounts;
* households (2-3 people: same surname and address) sharing a phone, some also an e-mail;
* the same person on every channel (web and counter records of one person);
* optionally (``namesakes``) strangers with a person's given name, family name and birth date;
* optionally (``twins``) twins: one birth date, surname, address and phone; another real given name close to
  the sibling's ("Jean"/"Jeanne"), or (``twin_names="slip"``) one typing slip away, which no record tells
  from one person's typo.

Counter records carry what the clerk saw in a ``customer`` object (standard trait keys); the branch
mapper passes it on once issue #8 item 6 (the norm package) has landed, and drops it before.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from faker import Faker

from processors.identity.normalize import national_id_check_char


@dataclass
class Person:
    pid: int
    given: str
    family: str
    birth: date
    address: str
    postcode: str
    email: str
    phone: str
    accounts: list[str]
    user_id: str
    national_id: str | None
    household: int | None = None
    namesake_of: int | None = None  # another person with this one's given name, family name and birth date


@dataclass
class Record:
    person: int
    channel: str  # "web" | "branch"
    message: dict[str, Any]
    household: int | None = None
    notes: list[str] = field(default_factory=list)


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.choice(("drop", "swap", "replace", "double"))
    if op == "drop":
        return text[:i] + text[i + 1:]
    if op == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if op == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1:]


def _digit_typo(rng: random.Random, digits: str) -> str:
    i = rng.randrange(len(digits))
    return digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1:]


def _national_id(rng: random.Random, birth: date) -> str:
    first17 = f"110105{birth:%Y%m%d}{rng.randint(100, 999)}"
    return first17 + national_id_check_char(first17)


def _email(rng: random.Random, given: str, family: str, domain: str) -> str:
    sep = rng.choice((".", "_", ""))
    return f"{given}{sep}{family}{rng.randint(1, 999)}@{domain}".lower().replace(" ", "")


def people(n: int, rng: random.Random, fake: Faker) -> list[Person]:
    out: list[Person] = []
    while len(out) < n:
        pid = len(out)
        given, family = fake.first_name(), fake.last_name()
        if out and rng.random() < 0.02:  # a namesake of someone already there
            other = rng.choice(out)
            given, family = other.given, other.family
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
        person = Person(
            pid, given, family, birth, fake.street_address(), fake.postcode(),
            _email(rng, given, family, fake.free_email_domain()), f"+336{rng.randrange(10**8):08d}",
            [f"{rng.randrange(10**7, 10**8)}"], f"u-{pid}-{rng.randrange(10**6)}",
            _national_id(rng, birth) if rng.random() < 0.3 else None,
        )
        if rng.random() < 0.05:
            person.accounts.append(f"{rng.randrange(10**7, 10**8)}")  # a second account
        out.append(person)
        if rng.random() < 0.06 and len(out) < n:  # a household: same surname and address, shared phone
            for _ in range(rng.choice((1, 1, 2))):
                if len(out) >= n:
                    break
                mate_given = fake.first_name()
                mate_birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
                shares_email = rng.random() < 0.3
                mate = Person(
                    len(out), mate_given, family, mate_birth, person.address, person.postcode,
                    person.email if shares_email else _email(rng, mate_given, family, fake.free_email_domain()),
                    person.phone, [f"{rng.randrange(10**7, 10**8)}"], f"u-{len(out)}-{rng.randrange(10**6)}",
                    _national_id(rng, mate_birth) if rng.random() < 0.3 else None, household=pid,
                )
                person.household = pid
                out.append(mate)
    return out


def _traits(rng: random.Random, p: Person, notes: list[str]) -> dict[str, str]:
    given, family, birth, address = p.given, p.family, p.birth.isoformat(), p.address
    if rng.random() < 0.08:
        given, _ = _typo(rng, given), notes.append("given-typo")
    if rng.random() < 0.08:
        family, _ = _typo(rng, family), notes.append("family-typo")
    if rng.random() < 0.02:
        given, family, _ = family, given, notes.append("swapped-names")
    roll = rng.random()
    if roll < 0.03:
        birth, _ = f"{p.birth.year}-{p.birth.day:02d}-{p.birth.month:02d}", notes.append("day-month")
    elif roll < 0.06:
        birth, _ = _digit_typo(rng, birth.replace("-", "")), notes.append("birth-typo")
        birth = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"
    if rng.random() < 0.1:
        address, _ = _typo(rng, address), notes.append("address-typo")
    traits = {"given_name": given, "family_name": family, "birth_date": birth, "address_line": address,
              "postcode": p.postcode}
    for key in list(traits):
        if rng.random() < 0.08:
            del traits[key]
            notes.append(f"missing-{key}")
    return traits


def records(persons: list[Person], rng: random.Random) -> list[Record]:
    out: list[Record] = []
    for p in persons:
        for index in range(rng.choice((1, 2, 2, 3, 3, 4))):
            notes: list[str] = []
            account = rng.choice(p.accounts)
            if rng.random() < 0.05:
                account, _ = _digit_typo(rng, account), notes.append("account-typo")
            email = p.email
            if rng.random() < 0.05:
                local, _, domain = email.partition("@")
                email, _ = f"{_typo(rng, local)}@{domain}", notes.append("email-typo")
            mid = f"p{p.pid}-r{index}"
            traits = _traits(rng, p, notes)
            if rng.random() < 0.6:
                traits["email"] = email
                if rng.random() < 0.5:
                    traits["phone"] = p.phone
                message = {"type": "identify", "userId": p.user_id, "messageId": mid, "traits": traits}
                out.append(Record(p.pid, "web", message, p.household, notes))
            else:
                ids = [{"type": "ACCOUNT", "value": account}]
                if rng.random() < 0.7:
                    ids.append({"type": "PHONE", "value": p.phone})
                if p.national_id and rng.random() < 0.5:
                    ids.append({"type": "NATIONAL_ID", "value": p.national_id})
                message = {"event_id": mid, "kind": "transaction", "occurred_at": "2025-03-01T10:00:00+01:00",
                           "agent_id": "E-1", "identifiers": ids, "customer": traits,
                           "transaction": {"id": f"TX-{mid}", "type": "payment", "status": "completed",
                                           "counter_id": "C1"}}
                out.append(Record(p.pid, "branch", message, p.household, notes))
    return out


TWIN_SEED_OFFSET = 2000
TWIN_NAMES = ("real", "slip")  # how a twin's given name is made: ``real_twin_name`` / ``slip_twin_name``
TWIN_NAME_CHOICES = 5  # a real twin's name: one of this many real names closest to the sibling's


def slip_twin_name(rng: random.Random, given: str) -> str | None:
    """A given name one typing slip from ``given`` that Jaro-Winkler does not already call close (< 0.86,
    "lucy"/"lncy"). Indistinguishable from a typo of one person: the given-name slip rule of
    ``matching/compare.py`` takes them for one person unless an account or user id differs."""
    from rapidfuzz.distance import OSA, JaroWinkler

    for _ in range(20):
        name = _typo(rng, given.lower()).capitalize()
        if OSA.distance(name.lower(), given.lower()) == 1 and JaroWinkler.similarity(name.lower(), given.lower()) < 0.86:
            return name
    return None


def real_twin_name(rng: random.Random, given: str, locale: str = "fr_FR") -> str | None:
    """Another real given name of ``locale`` (Faker's first names), adversarial: one of the
    ``TWIN_NAME_CHOICES`` closest to ``given`` by Jaro-Winkler ("Jean"/"Jeanne", "Louis"/"Louise",
    "Marie"/"Maria"), never ``given`` itself or a diminutive of it (no twins "Robert" and "Bob")."""
    import importlib

    from rapidfuzz.distance import JaroWinkler

    from processors.identity.matching.given_names import folded, variants

    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    mine = folded(given)
    names = sorted({name for name in provider.first_names if folded(name) != mine and not variants(folded(name), mine)})
    names.sort(key=lambda name: -JaroWinkler.similarity(folded(name), mine))
    return rng.choice(names[:TWIN_NAME_CHOICES]) if names else None


def add_twins(persons: list[Person], out: list[Record], count: int, seed: int, fake: Faker,
              twin_names: str = "real") -> None:
    """``count`` twins of people without a household: the same birth date, surname, address and phone, a
    given name of their own (``twin_names``: "real", another real first name close to the sibling's; "slip",
    one typing slip away), their own e-mail, account and user id; records appended to ``out``. A separate
    random stream, so the rest of the population is the one without twins."""
    if twin_names not in TWIN_NAMES:
        raise ValueError(f"twin_names must be one of {TWIN_NAMES}, got {twin_names!r}")
    rng = random.Random(seed + TWIN_SEED_OFFSET)
    singles = [p for p in persons if p.household is None and len(p.given) >= 3]
    rng.shuffle(singles)
    made = 0
    for sibling in singles:
        given = real_twin_name(rng, sibling.given) if twin_names == "real" else slip_twin_name(rng, sibling.given)
        if given is None:
            continue
        if made == count:
            break
        made += 1
        twin = Person(len(persons), given, sibling.family, sibling.birth, sibling.address, sibling.postcode,
                      _email(rng, given, sibling.family, fake.free_email_domain()), sibling.phone,
                      [f"{rng.randrange(10**7, 10**8)}"], f"u-{len(persons)}-{rng.randrange(10**6)}",
                      _national_id(rng, sibling.birth) if rng.random() < 0.3 else None, household=sibling.pid)
        sibling.household = sibling.pid
        for record in out:
            if record.person == sibling.pid:
                record.household = sibling.pid
        persons.append(twin)
        out.extend(records([twin], rng))


NAMESAKE_SEED_OFFSET = 3000


def add_namesakes(persons: list[Person], out: list[Record], count: int, seed: int, *, same_line: bool = False) -> None:
    """``count`` strangers who share a person's given name, family name and birth date (a "Jean Dupont born
    1965-11-30" in another town, tester8's finding 3) and nothing else: their own address, postcode, e-mail,
    phone, account, user id; records appended to ``out``. Drawn from people outside households and twins, on a
    separate random stream, so the rest of the population is the one without them. ``same_line``: the namesake
    lives at the person's address line in another town (their own postcode: "12 rue de la République" in Toulouse
    and in Bordeaux, issue #8), all else as without it."""
    rng = random.Random(seed + NAMESAKE_SEED_OFFSET)
    fake = Faker("fr_FR")
    fake.seed_instance(seed + NAMESAKE_SEED_OFFSET)
    originals = [p for p in persons if p.household is None and p.namesake_of is None]
    rng.shuffle(originals)
    for original in originals[:count]:
        pid = len(persons)
        line = fake.street_address()
        namesake = Person(pid, original.given, original.family, original.birth, original.address if same_line else line,
                          fake.postcode(), _email(rng, original.given, original.family, fake.free_email_domain()),
                          f"+336{rng.randrange(10**8):08d}", [f"{rng.randrange(10**7, 10**8)}"],
                          f"u-{pid}-{rng.randrange(10**6)}",
                          _national_id(rng, original.birth) if rng.random() < 0.3 else None,
                          namesake_of=original.pid)
        persons.append(namesake)
        out.extend(records([namesake], rng))


def population(n: int, seed: int, twins: int = 0, twin_names: str = "real",
               namesakes: int = 0, namesake_line: bool = False) -> tuple[list[Person], list[Record]]:
    """``twins``: that many twins added (``add_twins``, names made as ``twin_names`` says) after the ``n`` people;
    ``namesakes``: that many strangers with a person's full name and birth date after them (``add_namesakes``;
    ``namesake_line``: on the person's address line in another town)."""
    rng = random.Random(seed)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    persons = people(n, rng, fake)
    out = records(persons, rng)
    if twins:
        add_twins(persons, out, twins, seed, fake, twin_names)
    if namesakes:
        add_namesakes(persons, out, namesakes, seed, same_line=namesake_line)
    return persons, out
