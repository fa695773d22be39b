"""Company numbers as people type them, normalised to the register's 8 characters (FACTS §3)."""

from __future__ import annotations

import pytest

from clientdock.enrichment.numbers import describe_invalid, is_company_number, normalise_company_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07798925", "07798925"),
        ("7798925", "07798925"),
        ("123456", "00123456"),
        ("6402", "00006402"),
        ("1", "00000001"),
        (" 07798925 ", "07798925"),
        ("0779 8925", "07798925"),
        ("07-798-925", "07798925"),
        ("07.798.925", "07798925"),
        ("7798925.0", "07798925"),  # a spreadsheet's float
        ("07798925\u00a0", "07798925"),  # non-breaking space from a web page
        ("000123456", "00123456"),  # an extra leading zero
        ("SC123456", "SC123456"),
        ("sc123456", "SC123456"),
        ("SC 123456", "SC123456"),
        ("Sc-1234", "SC001234"),
        ("SC0123456", "SC123456"),
        ("NI012345", "NI012345"),
        ("ni 12345", "NI012345"),
        ("R0000123", "R0000123"),
        ("r0123", "R0000123"),
        ("OC300001", "OC300001"),
        ("oc/300001", "OC300001"),
        ("SO301234", "SO301234"),
        ("NC000123", "NC000123"),
        ("LP012345", "LP012345"),
        ("SL000567", "SL000567"),
        ("NL000089", "NL000089"),
        ("FC031234", "FC031234"),
        ("SE000012", "SE000012"),
        ("GE000003", "GE000003"),
        ("CE001234", "CE001234"),
        ("CS000321", "CS000321"),
        ("OE012345", "OE012345"),
        ("IP12345", "IP012345"),
        ("SP001234", "SP001234"),
        ("NP000111", "NP000111"),
        ("RC000777", "RC000777"),
        ("SR000042", "SR000042"),
        ("ZC000001", "ZC000001"),
    ],
)
def test_valid_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalise_company_number(raw) == expected
    assert describe_invalid(raw) == ""
    assert is_company_number(raw)
    assert normalise_company_number(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "no company number"),
        ("", "empty"),
        ("   ", "empty"),
        ("--", "empty"),
        ("999999999", "9 digits"),
        ("123456789012", "12 digits"),
        ("00000000", "all zeros"),
        ("0", "all zeros"),
        ("SC1234567", "7 digits after SC"),
        ("XX123456", "not a Companies House prefix"),
        ("AB123456", "not a Companies House prefix"),
        ("S1234567", "not a Companies House prefix"),
        ("SCO12345", "not a company number"),  # letter O for zero
        ("12345SC", "not a company number"),
        ("SC", "not a company number"),
        ("ACME LTD", "not a company number"),
        ("N/A", "not a company number"),
        ("tbc", "not a company number"),
        ("0779892５", "other than letters and digits"),  # full-width digit
        ("07798925 (dormant)", "not a company number"),
        ("SC12345É", "other than letters and digits"),
    ],
)
def test_invalid_numbers_give_none_and_a_reason(raw: str | None, reason: str) -> None:
    assert normalise_company_number(raw) is None
    assert not is_company_number(raw)
    assert reason in describe_invalid(raw)


def test_reason_names_the_value() -> None:
    assert "'999999999'" in describe_invalid("999999999")
