"""The value parsers every door's records go through: text, email, phone, boolean, type,
dates, instants and tags; each refusal says why and with which code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from clientdock.pipeline import values as v


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  Ada  ", "Ada"), ("\u00a0Ada\u2003", "Ada"), ("in  side", "in  side"), (42, "42"), (42.0, "42"), (4.5, "4.5"), ("", "")],
)
def test_strip_text(raw: Any, expected: str) -> None:
    assert v.strip_text(raw) == expected


@pytest.mark.parametrize(("raw", "says"), [(True, "not a boolean"), (["a"], "not list"), ({"a": 1}, "not dict"), (None, "not NoneType")])
def test_strip_text_refuses_what_is_not_text(raw: Any, says: str) -> None:
    with pytest.raises(v.InvalidValue, match=says) as caught:
        v.strip_text(raw)
    assert caught.value.code == "invalid"


def test_text_trims_empties_to_none_and_enforces_the_length() -> None:
    assert v.text("  x ", max_length=5) == "x"
    assert v.text("   ", max_length=5) is None
    assert v.text("abcde", max_length=5) == "abcde"
    with pytest.raises(v.InvalidValue, match="is 6 characters long; at most 5 allowed"):
        v.text("abcdef", max_length=5)


def test_name_like_text_drops_control_characters_only() -> None:
    assert v.text("Ada\x00 Love\x1flace\x7f", max_length=50, name_like=True) == "Ada Lovelace"
    assert v.text("Zoë\tBrontë", max_length=50, name_like=True) == "Zoë\tBrontë"
    with pytest.raises(v.InvalidValue, match="NUL character"):  # PostgreSQL cannot store it in text
        v.text("Ada\x00", max_length=50)


@pytest.mark.parametrize(
    ("raw", "integer", "expected"),
    [
        ("12345678901234567891", True, 12345678901234567891),  # exact: no float round trip
        (12345678901234567891, True, 12345678901234567891),
        ("7", True, 7), (7.0, True, 7), ("7.0", True, 7), (" -3 ", True, -3), ("1e3", True, 1000),
        ("1.5", False, 1.5), (2.5, False, 2.5), ("1e35", False, 1e35), ("0E-50", True, 0),
    ],
)  # fmt: skip
def test_numbers_are_kept_exact(raw: object, integer: bool, expected: object) -> None:
    got = v.number(raw, integer=integer)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("raw", "integer", "why"),
    [
        ("1.7", True, "is not a whole number"), ("1e30", True, "has more than 30 digits"), (10**40, True, "has more than 30 digits"),
        ("inf", True, "is not a finite number"), ("NaN", False, "is not a finite number"), (float("inf"), False, "is not a finite number"),
        ("1e400", False, "is out of range"), ("forty", False, "is not a number"), (True, True, "is not a number"),
        ([1], False, "is not a number"), ("", True, "is not a number"),
    ],
)  # fmt: skip
def test_bad_numbers_say_why(raw: object, integer: bool, why: str) -> None:
    with pytest.raises(v.InvalidValue) as caught:
        v.number(raw, integer=integer)
    assert str(caught.value) == why


@pytest.mark.parametrize("raw", ["2020-01-01garbage", "2020-01-01T25:99:99", "2020-02-30", "2020-01-01 10:00 tomorrow"])
def test_a_date_with_trailing_garbage_is_refused(raw: str) -> None:
    with pytest.raises(v.InvalidValue, match="is not a date"):
        v.iso_date(raw)


@pytest.mark.parametrize(("raw", "stored"), [("2020-01-01T10:00:00Z", "2020-01-01"), ("2020-01-01 23:59:59+02:00", "2020-01-01")])
def test_an_iso_date_time_keeps_its_date(raw: str, stored: str) -> None:
    assert v.iso_date(raw) == stored


def test_nul_in_a_tag_is_refused() -> None:
    with pytest.raises(v.InvalidValue, match="NUL character"):
        v.tags(["ok", "b\x00d"])


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Ada@Firm.CO.UK", "Ada@firm.co.uk"),
        ("  ops+crm@acme.co  ", "ops+crm@acme.co"),
        ("a\u200b@firm.co", "a@firm.co"),
        ("o'connor@firm.ie", "o'connor@firm.ie"),
        ("jürgen@münchen.de", "jürgen@münchen.de"),
    ],
)
def test_email_keeps_the_local_part_and_lowers_the_domain(raw: str, stored: str) -> None:
    assert v.email(raw) == (stored, None)


def test_email_key_is_case_insensitive() -> None:
    assert v.email_key("Ada@firm.co.uk") == v.email_key("ADA@FIRM.CO.UK") == "ada@firm.co.uk"
    assert v.email_key(None) is None


@pytest.mark.parametrize("raw", ["", "   ", "\u200b"])
def test_blank_email_is_none(raw: str) -> None:
    assert v.email(raw) == (None, None)


@pytest.mark.parametrize(
    ("domain", "warned"),
    [
        ("acme.example", True), ("firm.test", True), ("localhost", True), ("box.local", True), ("x.invalid", True),
        ("firm.co.uk", False), ("example.org", False),  # reserved top-level names only (SPEC), not example.com/.org

    ],
)  # fmt: skip
def test_reserved_domains_are_accepted_with_a_warning(domain: str, warned: bool) -> None:
    stored, warning = v.email(f"ops@{domain}")
    assert stored == f"ops@{domain}"
    assert (warning == f"the domain '{domain}' is reserved and cannot receive mail") is warned
    assert (warning is None) is not warned


@pytest.mark.parametrize("raw", ["not-an-email", "a@b", "a@@b.co", "a b@firm.co", "@firm.co", "a@", "a@-firm.co"])
def test_bad_emails_are_refused_naming_the_value(raw: str) -> None:
    with pytest.raises(v.InvalidValue, match="is not a valid email address") as caught:
        v.email(raw)
    assert caught.value.code == "invalid"


def test_an_overlong_email_is_clipped_in_the_message() -> None:
    with pytest.raises(v.InvalidValue) as caught:
        v.email("a" * 400 + "@firm.co")
    assert "…" in str(caught.value)
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("020 7946 0018", "GB", "+442079460018"),
        ("+44 (0)20 7946 0018", "GB", "+442079460018"),
        ("06 12345678", "NL", "+31612345678"),
        ("+31 20 123 4567", "GB", "+31201234567"),
        ("(212) 555-0123", "US", "+12125550123"),
        (2079460018, "GB", "+442079460018"),
    ],
)
def test_phones_keep_what_was_given_and_add_e164(raw: Any, region: str, e164: str) -> None:
    given, normalised = v.phone(raw, region=region)
    assert given == str(raw).strip()
    assert normalised == e164


@pytest.mark.parametrize("raw", ["ext. 12", "12", "call reception"])
def test_unparseable_phones_are_kept_without_e164(raw: str) -> None:
    assert v.phone(raw, region="GB") == (raw, None)


def test_blank_phone_is_none() -> None:
    assert v.phone("  ", region="GB") == (None, None)


@pytest.mark.parametrize("raw", ["4.47911E+11", "4.47911e11", "-1E+5"])
def test_spreadsheet_scientific_phones_are_refused(raw: str) -> None:
    with pytest.raises(v.InvalidValue, match="scientific notation"):
        v.phone(raw, region="GB")


def test_a_phone_number_is_parsed_once_per_value_and_region() -> None:
    v.e164.cache_clear()
    given = "+44 (0)20 7946 0018"  # not the UK shortcut's shape: phonenumbers parses it
    assert v.phone(given, region="GB") == v.phone(f" {given} ", region="GB") == (given, "+442079460018")
    assert v.phone("020 7946 0018", region="NL") == ("020 7946 0018", "+312079460018")
    assert v.phone("call reception", region="GB") == v.phone("call reception", region="GB") == ("call reception", None)
    info = v.e164.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (2, 3, v.PHONE_CACHE_SIZE)


def test_a_zero_width_character_in_a_phone_is_removed_before_parsing() -> None:
    assert v.phone("020\u200b 7946 0018", region="GB") == ("020 7946 0018", "+442079460018")


def test_text_that_is_printable_has_nothing_the_name_cleaning_removes() -> None:
    # text() skips the cleaning of printable text: every character it removes must be unprintable.
    removed = [*v.INVISIBLE_FORMAT, "\r", *map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])]
    assert not any(character.isprintable() for character in removed)
    assert v.text("Zoë\u200b Brontë\r", max_length=100, name_like=True) == "Zoë Brontë"


def test_an_overlong_phone_is_refused() -> None:
    with pytest.raises(v.InvalidValue, match="longer than 100"):
        v.phone("1" * 101, region="GB")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True), (False, False), (1, True), (0, False), ("yes", True), ("Y", True), ("TRUE", True), (" on ", True), ("t", True),
        ("no", False), ("N", False), ("false", False), ("off", False), ("0", False), ("f", False), ("", None),
    ],
)  # fmt: skip
def test_booleans(raw: Any, expected: bool | None) -> None:
    assert v.boolean(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", 2, "ja"])
def test_not_a_boolean_is_invalid_value(raw: Any) -> None:
    with pytest.raises(v.InvalidValue, match="is not a boolean") as caught:
        v.boolean(raw)
    assert caught.value.code == "invalid_value"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Individual", "Individual"), ("person", "Individual"), ("LTD", "PrivateLimitedCompany"),
        ("Limited Company", "PrivateLimitedCompany"), ("p.l.c.", "PublicLimitedCompany"), ("L.L.P", "LimitedLiabilityPartnership"),
        ("sole_trader", "SoleTrader"),
        ("Self-Employed", "SoleTrader"), ("charity", "Charity"), ("", None),
    ],
)  # fmt: skip
def test_client_types_and_their_aliases(raw: str, expected: str | None) -> None:
    assert v.client_type(raw) == expected


def test_an_unknown_client_type_lists_the_allowed_ones() -> None:
    with pytest.raises(v.InvalidValue, match="'Corporation' is not a client type; use one of Individual, ") as caught:
        v.client_type("Corporation")
    assert caught.value.code == "invalid_value"


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("1980-02-29", "DMY", "1980-02-29"),
        ("1980-02-29T10:00:00", "MDY", "1980-02-29"),
        ("03/04/2020", "DMY", "2020-04-03"),
        ("03/04/2020", "MDY", "2020-03-04"),
        ("3.4.2020", "DMY", "2020-04-03"),
        ("31-12-1999", "DMY", "1999-12-31"),
        ("0/0/00", "DMY", None),
        ("00/00/0000", "MDY", None),
        ("", "DMY", None),
        (date(2001, 2, 3), "DMY", "2001-02-03"),
        (datetime(2001, 2, 3, 23, 59), "MDY", "2001-02-03"),
    ],
)
def test_dates(raw: Any, order: str, expected: str | None) -> None:
    assert v.iso_date(raw, order=order) == expected


@pytest.mark.parametrize(("raw", "order"), [("31/12/1999", "MDY"), ("29/02/2021", "DMY"), ("2020-13-01", "DMY"), ("1980-02-31", "MDY")])
def test_impossible_dates_are_refused(raw: str, order: str) -> None:
    with pytest.raises(v.InvalidValue, match=rf"^'{raw}' is not a date that exists \(use YYYY-MM-DD\)$"):
        v.iso_date(raw, order=order)


@pytest.mark.parametrize("raw", ["03/14", "14.3", "3-14", "--03-14"])
def test_a_date_without_a_year_says_so(raw: str) -> None:
    with pytest.raises(v.InvalidValue, match=rf"^'{raw}' has no year \(use YYYY-MM-DD\)$"):
        v.iso_date(raw)


@pytest.mark.parametrize("raw", ["yesterday", "1980", "14 March"])
def test_text_that_is_no_date_is_refused(raw: str) -> None:
    with pytest.raises(v.InvalidValue, match=rf"^'{raw}' is not a date \(use YYYY-MM-DD\)$"):
        v.iso_date(raw)


@pytest.mark.parametrize("raw", ["maybe", "Mr", "1", "femalé"])
def test_an_unknown_gender_is_refused_naming_the_value(raw: str) -> None:
    with pytest.raises(v.InvalidValue, match=rf"^'{raw}' is not a gender") as caught:
        v.gender(raw)
    assert caught.value.code == "invalid_value"


def test_a_blank_gender_is_none() -> None:
    assert v.gender("  ") is None


def test_instants_are_timezone_aware() -> None:
    assert v.instant("2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert v.instant("2024-05-01T10:00:00+02:00") == datetime(2024, 5, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    assert v.instant("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert v.instant("01/05/2024") == datetime(2024, 5, 1, tzinfo=UTC)
    assert v.instant(datetime(2024, 5, 1, 9)) == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert v.instant("  ") is None
    with pytest.raises(v.InvalidValue, match="is not a date-time"):
        v.instant("soon")


def test_tags_from_lists_and_cells() -> None:
    assert v.tags(["vip", " 2024 ", "vip", ""]) == ["vip", "2024"]
    assert v.tags("vip; 2024,payroll") == ["vip", "2024", "payroll"]
    assert v.tags("Cafe\u0301") == ["Café"]  # NFC: the same tag however it was typed
    assert v.tags([]) == []


@pytest.mark.parametrize(("raw", "says"), [(5, "a list of strings"), ([1], "a list of strings"), (["x" * 101], "longer than 100")])
def test_bad_tags(raw: Any, says: str) -> None:
    with pytest.raises(v.InvalidValue, match=says):
        v.tags(raw)


# --- text as the firm wrote it (issue 14) -------------------------------------------------------


@pytest.mark.parametrize("name_like", [True, False])
def test_a_bare_cr_is_a_line_break_not_dropped(name_like: bool) -> None:
    assert v.text("x\r=1+1", max_length=50, name_like=name_like) == "x\n=1+1"
    assert v.text("Line one\rLine two\r", max_length=50, name_like=name_like) == "Line one\nLine two"


def test_a_crlf_is_one_line_break_in_a_name_and_kept_in_other_text() -> None:
    assert v.text("Hopper\r\nMurray", max_length=50, name_like=True) == "Hopper\nMurray"
    assert v.text("Windows\r\nline", max_length=50) == "Windows\r\nline"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("\u202eAdam", "Adam"),
        ("Smith\u202c", "Smith"),
        ("\u2066Holdings\u2069 Ltd", "Holdings Ltd"),
        ("\u2067Nasser\u2068\u2069", "Nasser"),
        ("\u200bBe\u200bth\u200e\u200f", "Beth"),
        ("\ufeffJones", "Jones"),
        ("Word\u2060joiner", "Wordjoiner"),
        ("\u061cArabic mark", "Arabic mark"),
        ("Smi\u200cth", "Smith"),
        ("\u200dAnn \u200d", "Ann"),
        ("\u202a\u202b\u202d", None),
    ],
)
def test_invisible_format_characters_leave_names(raw: str, stored: str | None) -> None:
    assert v.text(raw, max_length=50, name_like=True) == stored
    assert not set(stored or "") & v.INVISIBLE_FORMAT


@pytest.mark.parametrize(
    "name",
    [
        "\u0645\u0647\u0631\u200c\u0622\u0628\u0627\u062f\u06cc",  # Persian: the ZWNJ shapes the word
        "\u0c1c\u0c4d\u0c1e\u200c\u0c3e",  # Telugu
        "\U0001f468\u200d\U0001f469\u200d\U0001f466",  # one family emoji
    ],
)
def test_a_joiner_that_joins_a_script_is_kept(name: str) -> None:
    assert v.text(name, max_length=50, name_like=True) == name


def test_other_text_keeps_what_it_was_given() -> None:
    assert v.text("note \u202e reversed", max_length=50) == "note \u202e reversed"


@pytest.mark.parametrize(
    "raw", ["\u202eada@example.org", "ada@example.org\u2069", "\u200e ada@exa\u200bmple.org \ufeff", "\u2066ada@example.org\u2069"]
)
def test_invisible_format_characters_leave_emails(raw: str) -> None:
    assert v.email(raw) == ("ada@example.org", None)


def test_a_formula_behind_a_bidi_control_is_neutralised_once_visible() -> None:
    from clientdock.csvsafe import neutralise

    stored = v.text('\u202e=HYPERLINK("http://evil.example")', max_length=100, name_like=True)
    assert stored == '=HYPERLINK("http://evil.example")'
    assert neutralise(stored) == "'" + stored


def test_tags_of_a_google_contacts_labels_cell_leave_out_its_system_groups() -> None:
    assert v.tags("* myContacts ::: Clients ::: VAT") == ["Clients", "VAT"]


def test_tags_of_a_mailchimp_cell_lose_their_quotes() -> None:
    assert v.tags('"Clients","Newsletter"') == ["Clients", "Newsletter"]
