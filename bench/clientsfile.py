"""Seeded, realistic clients CSV files: the same seed gives the same rows, byte for byte.

Names with accents, an email per row (unique, mixed case), landlines and mobiles in national
and ``+44`` formats (some empty), company types as people write them, tags, ``dd/mm/yyyy``
dates of birth (some empty), notes with commas and quotes. ``changed`` rewrites the note of
every second row, all else equal: the file of the ``change_half`` phase.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterator
from pathlib import Path

FIRST = [
    "Maya", "Ben", "Zoë", "Jürgen", "Siobhán", "Ana", "Luca", "Noor", "Kwame", "Mei", "Olga", "Raj", "Chloé", "Søren", "Élodie", "Tomás",
]  # fmt: skip
LAST = [
    "White", "Mwangi", "Brontë", "Weiß", "O'Connor", "García", "Rossi", "Haddad", "Mensah", "Chen", "Ivanova", "Patel", "Núñez", "Dvořák",
]  # fmt: skip
WORDS = ["Harbour", "Oak", "Northern", "Kestrel", "Brontë", "Riverside", "Château", "Blue Fin", "Møller", "Ashdown"]
SUFFIXES = ["Ltd", "Limited", "LLP", "& Co", "Partners", "Trading"]
TYPES = ["Personal", "Individual", "ltd", "Ltd", "LLP", "Sole trader", "Partnership", "Charity", "plc", ""]
TAGS = ["vip", "newsletter", "payroll", "VAT", "self-assessment", "bookkeeping", "Brontë list"]
HEADER = ["First Name", "Last Name", "E-mail", "Phone", "Mobile", "Company", "Active", "Type", "Tags", "Date of Birth", "Notes"]


def ascii_of(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "").replace(" ", "")


def landline(rng: random.Random) -> str:
    """A UK landline in one of the ways people write it, or nothing."""
    kind = rng.randrange(10)
    if kind < 2:
        return ""
    if kind < 5:
        return f"020 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    if kind < 7:
        return f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    if kind < 9:
        return f"0161 {rng.randint(200, 999)} {rng.randint(1000, 9999)}"
    return f"+44 (0)113 {rng.randint(200, 999)} {rng.randint(1000, 9999)}"


def mobile(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind < 2:
        return ""
    digits = f"7{rng.randint(400, 999)}{rng.randint(100000, 999999)}"
    if kind < 6:
        return f"0{digits[:4]} {digits[4:]}"
    if kind < 9:
        return f"+44 {digits[:4]} {digits[4:]}"
    return f"+44{digits}"


def rows(count: int, *, seed: int, changed: bool = False, start: int = 0) -> Iterator[list[str]]:
    """The rows of the file (without its header), one at a time; see ``write``."""
    rng = random.Random(seed)
    for i in range(start, start + count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        kind = rng.choice(TYPES)
        company = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)}" if rng.random() < 0.6 else ""
        born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2005)}" if rng.random() < 0.85 else ""
        tags = "; ".join(rng.sample(TAGS, rng.randint(0, 3)))
        note = rng.choice(["Prefers email", 'Referred by "Ana", 2019', "Year end: 31/03", "Call after 5pm, not Fridays", ""])
        if changed and i % 2 == 1:
            note = f"{note} (reviewed {i})".strip()
        email = f"{ascii_of(first)}.{ascii_of(last)}{i}@{rng.choice(['Example.org', 'example.co.uk', 'mail.example.com'])}"
        row = [
            first, last, email if rng.random() < 0.5 else email.lower(), landline(rng), mobile(rng), company,
            rng.choice(["yes", "no", "", "TRUE"]), kind, tags, born, note,
        ]  # fmt: skip
        yield row


def write(path: Path, count: int, *, seed: int, changed: bool = False, start: int = 0) -> Path:
    """``count`` clients, the same for the same seed; ``changed``: every second row's note differs.

    Each email ends with its row's number, counted from ``start``: files written with ranges
    that do not overlap share no email, whatever their seeds."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows(count, seed=seed, changed=changed, start=start))
    return path
