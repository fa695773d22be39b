"""The email fast path gives email-validator's verdicts: what the strict ASCII pattern accepts,
email-validator alone accepts too, with the same stored address.

Where the fast path declines, :func:`values.email` asks email-validator, so the verdicts match by
construction; what is tested here is the fast path's accept set: every address of the isemail
corpus (tests/corpus/emails, see its SOURCE.md), the edges of the pattern, and addresses
generated from the pattern itself. The one difference is SPEC's: a reserved domain (.test,
.local, .invalid, localhost), which email-validator refuses as special-use, is accepted with a
warning.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from clientdock.pipeline import values as v

EMAILS = Path(__file__).parents[1] / "corpus" / "emails"
#: email-validator's refusal of a special-use domain, which SPEC accepts when the name is reserved.
SPECIAL_USE = "special-use or reserved name"


def _control(text: str) -> str:
    """isemail writes an ASCII control character as the symbol for it (U+2400 + its code)."""
    return "".join(chr(ord(c) - 0x2400) if 0x2400 <= ord(c) <= 0x241F else c for c in text)


def corpus() -> list[str]:
    tests = ET.parse(EMAILS / "isemail_tests.xml").getroot().iter("test")
    written = [test.findtext("address") or "" for test in tests]
    with (EMAILS / "isemail_vectors.csv").open(encoding="utf-8", newline="") as handle:
        vectors = [row["address"] for row in csv.DictReader(handle)]
    return sorted({*written, *map(_control, written), *vectors})


EDGES = [
    "a@b.co", "A.B-C_D+tag@Sub.Example.COM", "o'connor@firm.ie", "x@1.com", "x@123.example.org", "x@a.b1",
    "a" * 64 + "@firm.co", "a" * 65 + "@firm.co", "x@" + "a" * 63 + ".com", "x@" + "a" * 64 + ".com",
    "x@" + ".".join(["a" * 60] * 4) + ".com", "a" * 64 + "@" + ".".join(["b" * 61] * 3) + ".co",
    "x@-firm.co", "x@firm-.co", "x@fi--rm.co", "x@ab--cd.com", "x@xn--bcher-kva.example", "x@xn--zz.com", "x@XN--BCHER-KVA.com",
    "x@firm.co.", "x@.firm.co", "x@firm..co", ".x@firm.co", "x.@firm.co", "x..y@firm.co", "x@firm.c", "x@firm.c0m",
    "x@localhost", "x@firm.test", "x@firm.local", "x@firm.invalid", "x@firm.example", "x@firm.onion", "x@10.in-addr.arpa",
    "x@firm.co\n", "\nx@firm.co", "x@firm.co ", "x@[192.0.2.1]", '"x y"@firm.co', "x@firm.co@firm.co",
]  # fmt: skip


def reference(address: str) -> tuple[str | None, str]:
    """email-validator alone: (the stored form of the address, or None when it refuses; why)."""
    try:
        result = validate_email(address, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as exc:
        return None, str(exc)
    local, _, domain = result.normalized.rpartition("@")
    return f"{local}@{domain.lower()}", ""


def assert_same_verdict(address: str) -> bool:
    """The fast path's verdict on ``address`` is email-validator's; True when the fast path took it."""
    fast = v.fast_email(address)
    if fast is None:
        return False
    stored, why = reference(address)
    local, domain = fast
    if stored is None and SPECIAL_USE in why:
        assert v.email(address) == (f"{local}@{domain}", f"the domain '{domain}' is reserved and cannot receive mail"), address
        return True
    assert stored == f"{local}@{domain}", f"{address!r}: the fast path accepts it; email-validator: {why or stored}"
    return True


def test_the_corpus_gets_email_validators_verdicts() -> None:
    addresses = corpus()
    taken = [address for address in addresses if assert_same_verdict(address)]
    assert len(addresses) > 190
    assert taken  # the fast path had its say on some of them


@pytest.mark.parametrize("address", EDGES)
def test_the_edges_of_the_pattern_get_email_validators_verdicts(address: str) -> None:
    assert_same_verdict(address)


@pytest.mark.parametrize(
    "address",
    ["x@firm.co\n", "x@firm.onion", "x@10.in-addr.arpa", "x@xn--bcher-kva.example", "x@ab--cd.com", "a" * 65 + "@firm.co"],
)
def test_the_fast_path_leaves_these_to_email_validator(address: str) -> None:
    assert v.fast_email(address) is None


def test_the_fast_path_takes_plain_addresses() -> None:
    assert v.fast_email("Ada.Lovelace+crm@Firm.CO.uk") == ("Ada.Lovelace+crm", "firm.co.uk")
    assert v.fast_email("ops@localhost") == ("ops", "localhost")


@settings(max_examples=3000, derandomize=True, deadline=None, database=None)
@given(st.from_regex(v.FAST_EMAIL, fullmatch=True))
def test_what_the_pattern_matches_gets_email_validators_verdict(address: str) -> None:
    assert_same_verdict(address)
