"""pipeline.addresses and the address headers: a file row's address cells as objects, a lone
multi-line address split into lines, the Propeller API's address keys, the merge by type."""

from __future__ import annotations

from typing import Any

import pytest

from clientdock.clients.fields import ADDRESS_FILE_FIELDS, ADDRESS_FILE_TYPES, ADDRESS_PARTS
from clientdock.clients.models import Client
from clientdock.errors import ValidationFailed
from clientdock.pipeline import values as v
from clientdock.pipeline.addresses import ADDRESS_KEYS, clean_item, gather, is_country, is_postcode, merge_by_type, split_lines
from clientdock.pipeline.headers import CANONICAL_FIELDS, SYNONYMS, match_headers
from clientdock.web.templating import field_label
from clientdock.web.views import address_lines

# --- the file door's fields ----------------------------------------------------------------


def test_every_type_and_part_is_a_file_field_with_a_human_label() -> None:
    assert ADDRESS_KEYS == ("type", *ADDRESS_PARTS)
    assert len(ADDRESS_FILE_FIELDS) == len(ADDRESS_FILE_TYPES) * len(ADDRESS_PARTS)
    for name in ADDRESS_FILE_FIELDS:
        assert name in CANONICAL_FIELDS
        assert name in SYNONYMS
        assert match_headers([name]).fields == [name]
        label = field_label(name)
        assert " – " in label
        assert "." not in label
    assert field_label("addresses.billing.postalCode") == "Billing address – Postcode"
    assert field_label("addresses.postal.line1") == "Postal address – Line 1"
    assert field_label("addresses.registered.city") == "Registered office – Town or city"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # no prefix: the postal address, in five languages
        ("Address", "addresses.postal.line1"),
        ("Address line 1", "addresses.postal.line1"),
        ("Address Line 2", "addresses.postal.line2"),
        ("Address line 3", "addresses.postal.line3"),
        ("Address line 4", "addresses.postal.line4"),
        ("Street", "addresses.postal.street"),
        ("Town", "addresses.postal.city"),
        ("City", "addresses.postal.city"),
        ("County", "addresses.postal.region"),
        ("Region", "addresses.postal.region"),
        ("Postcode", "addresses.postal.postalCode"),
        ("ZIP", "addresses.postal.postalCode"),
        ("Country", "addresses.postal.country"),
        ("Straße", "addresses.postal.street"),
        ("Hausnummer", "addresses.postal.houseNumber"),
        ("PLZ", "addresses.postal.postalCode"),
        ("Ort", "addresses.postal.city"),
        ("Land", "addresses.postal.country"),
        ("Adresse", "addresses.postal.line1"),
        ("Code postal", "addresses.postal.postalCode"),
        ("Ville", "addresses.postal.city"),
        ("Pays", "addresses.postal.country"),
        ("Calle", "addresses.postal.street"),
        ("Código postal", "addresses.postal.postalCode"),
        ("Ciudad", "addresses.postal.city"),
        ("Provincia", "addresses.postal.region"),
        ("Straat", "addresses.postal.street"),
        ("Huisnummer", "addresses.postal.houseNumber"),
        ("Plaats", "addresses.postal.city"),
        # a prefix names the type
        ("Billing Postcode", "addresses.billing.postalCode"),
        ("Invoice Address", "addresses.billing.line1"),
        ("Shipping City", "addresses.shipping.city"),
        ("Delivery Address Line 2", "addresses.shipping.line2"),
        ("Postal Address", "addresses.postal.line1"),
        ("Registered Office Postcode", "addresses.registered.postalCode"),
        ("Rechnungs-PLZ", "addresses.billing.postalCode"),
        ("Ville de facturation", "addresses.billing.city"),
        ("Código postal de envío", "addresses.shipping.postalCode"),
        # the real layouts
        ("Business Street", "addresses.business.line1"),
        ("Business Street 2", "addresses.business.line2"),
        ("Business Country/Region", "addresses.business.country"),
        ("Home City", "addresses.home.city"),
        ("Address 1 - Street", "addresses.postal.line1"),
        ("Address 1 - Extended Address", "addresses.postal.line2"),
        ("Address 1 - Postal Code", "addresses.postal.postalCode"),
        ("Billing Address Line 1", "addresses.billing.line1"),
        ("Billing Address City", "addresses.billing.city"),
        ("Shipping Address Postal Code", "addresses.shipping.postalCode"),
        ("POAddressLine1", "addresses.postal.line1"),
        ("POPostalCode", "addresses.postal.postalCode"),
        ("SAAddressLine1", "addresses.street.line1"),
        ("SACity", "addresses.street.city"),
    ],
)
def test_address_headers(header: str, field: str) -> None:
    assert match_headers([header]).fields == [field]


@pytest.mark.parametrize(
    "header",
    [
        "Other Street", "Address 1 - Formatted", "Address 1 - Type", "POAttentionTo", "Department", "Business", "Shipping",
        "Registered", "Registered Date", "Postal", "Invoice Number", "Home Phone", "Shipping Method", "Countries", "Billing Adress",
    ],
)  # fmt: skip
def test_headers_that_are_not_taken(header: str) -> None:
    assert match_headers([header]).fields == [None]


def test_a_near_miss_matches_an_address_header_without_a_prefix_only() -> None:
    match = match_headers(["Adress Line 1", "Post Cod"])
    assert match.fields == ["addresses.postal.line1", "addresses.postal.postalCode"]
    assert match.guessed == {"Adress Line 1": "addresses.postal.line1", "Post Cod": "addresses.postal.postalCode"}


def test_an_explicit_mapping_names_address_fields() -> None:
    match = match_headers(["Client", "Mail", "Where"], {"Where": "addresses.billing.line1"})
    assert match.mapping["Where"] == "addresses.billing.line1"


def test_a_mapping_to_an_address_part_that_does_not_exist_names_it() -> None:
    with pytest.raises(ValidationFailed, match="addresses.billing.planet"):
        match_headers(["Where"], {"Where": "addresses.billing.planet"})


# --- a file's row ----------------------------------------------------------------------------


def test_a_row_gives_one_object_per_type() -> None:
    fields: dict[str, Any] = {
        "firstName": "Ann",
        "addresses.postal.line1": "1 High St",
        "addresses.postal.postalCode": "SW1A 1AA",
        "addresses.billing.city": "Leeds",
        "addresses.shipping.city": "  ",
    }
    gather(fields)
    assert fields == {
        "firstName": "Ann",
        "addresses": [{"type": "postal", "line1": "1 High St", "postalCode": "SW1A 1AA"}, {"type": "billing", "city": "Leeds"}],
    }


def test_a_row_without_address_cells_gets_no_addresses() -> None:
    fields: dict[str, Any] = {"firstName": "Ann", "addresses.postal.city": ""}
    gather(fields)
    assert fields == {"firstName": "Ann"}


def test_a_multi_line_address_splits_with_postcode_and_country() -> None:
    parts = split_lines({"line1": "Flat 2\r\n10 Downing Street\nLondon\nsw1a 2aa\nUnited Kingdom\n"})
    assert parts == {
        "line1": "Flat 2",
        "line2": "10 Downing Street",
        "line3": "London",
        "postalCode": "sw1a 2aa",
        "country": "United Kingdom",
    }


def test_a_split_keeps_what_columns_gave_and_joins_lines_beyond_four() -> None:
    parts = split_lines({"line1": "A\nB\nC\nD\nE\nDeutschland", "postalCode": "10115", "city": "Berlin"})
    assert parts == {
        "line1": "A",
        "line2": "B",
        "line3": "C",
        "line4": "D, E",
        "country": "Deutschland",
        "postalCode": "10115",
        "city": "Berlin",
    }


def test_a_postcode_that_is_not_alone_stays_in_its_line() -> None:
    assert split_lines({"line1": "1 High St\nLondon SW1A 1AA"}) == {"line1": "1 High St", "line2": "London SW1A 1AA"}
    assert split_lines({"line1": "Hauptstr. 5\n10117 Berlin\nDeutschland"}) == {
        "line1": "Hauptstr. 5",
        "line2": "10117 Berlin",
        "country": "Deutschland",
    }


def test_a_continental_postcode_alone_on_its_line() -> None:
    assert split_lines({"line1": "Postfach 12\nBerlin\n10117\nDeutschland"}) == {
        "line1": "Postfach 12", "line2": "Berlin", "postalCode": "10117", "country": "Deutschland"
    }  # fmt: skip


def test_a_single_line_or_one_with_more_line_columns_is_not_split() -> None:
    assert split_lines({"line1": "1 High St, London"}) == {"line1": "1 High St, London"}
    assert split_lines({"line1": "a\nb", "line2": "c"}) == {"line1": "a\nb", "line2": "c"}


@pytest.mark.parametrize(
    "text", ["SW1A 1AA", "EC1A1BB", "m1 1ae", "B33 8TH", "CR2 6XH", "DN55 1PT", "GIR 0AA", "1012 LG", "10117", "1000", "94105-1234"]
)
def test_postcodes(text: str) -> None:
    assert is_postcode(text)


@pytest.mark.parametrize("text", ["London", "SW1A", "123", "123456", "10 Downing St", "10117 Berlin"])
def test_not_postcodes(text: str) -> None:
    assert not is_postcode(text)


@pytest.mark.parametrize("text", ["United Kingdom", "UK", "Nederland", "Pays-Bas", "España", "espana", "Germany", "Frankreich"])
def test_country_names(text: str) -> None:
    assert is_country(text)


def test_a_town_is_not_a_country() -> None:
    assert not is_country("London")


# --- an item of any door ---------------------------------------------------------------------


def test_the_propeller_keys_are_accepted_and_kept() -> None:
    item = {
        "type": "delivery", "street": " Damrak ", "number": 12, "numberExtension": "A", "postalCode": "1012 LG", "city": "Amsterdam",
        "region": "NH", "country": "NL", "company": "Jansen BV", "firstName": "Maria", "middleName": "van", "lastName": "Jansen",
        "email": "maria@example.nl", "phone": "020 123", "mobile": "06 123", "notes": "Ring twice", "isDefault": "Y",
    }  # fmt: skip
    assert clean_item(item, 0) == {
        "type": "shipping", "street": "Damrak", "houseNumber": "12A", "postalCode": "1012 LG", "city": "Amsterdam", "region": "NH",
        "country": "NL", "company": "Jansen BV", "firstName": "Maria", "middleName": "van", "lastName": "Jansen",
        "email": "maria@example.nl", "phone": "020 123", "mobile": "06 123", "notes": "Ring twice", "isDefault": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("number", "extension", "house"),
    [(12, "A", "12A"), ("12", "bis", "12bis"), (12, "2", "12-2"), (12, "-3", "12-3"), (12, None, "12"), (None, "A", "A"), (12.0, "", "12")],
)
def test_number_and_extension_make_the_house_number(number: Any, extension: Any, house: str) -> None:
    assert clean_item({"number": number, "numberExtension": extension}, 0) == {"houseNumber": house}


@pytest.mark.parametrize(
    ("given", "stored"), [("invoice", "billing"), ("Delivery", "shipping"), ("home", "home"), ("billing", "billing"), ("work", "work")]
)
def test_propeller_types(given: str, stored: str) -> None:
    assert clean_item({"type": given, "city": "Leeds"}, 0)["type"] == stored


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"city": "x", "planet": "Mars"}, "item 3 has unknown keys ['planet']"),
        ({"houseNumber": "1", "number": 2}, "item 3 gives both houseNumber and number"),
        ({"isDefault": "maybe"}, "item 3 isDefault 'maybe' is not a boolean"),
        ({"number": True}, "item 3 number must be text, not a boolean"),
        ({"line1": {"a": 1}}, "item 3 line1 must be text"),
        ({"notes": "x" * 4001}, "item 3 notes is 4001 characters long"),
        ("Damrak 1", "item 3 must be an object"),
    ],
)
def test_bad_items_name_the_item_and_key(item: Any, message: str) -> None:
    with pytest.raises(v.InvalidValue) as caught:
        clean_item(item, 3)
    assert str(caught.value).startswith(message)


# --- updates -----------------------------------------------------------------------------------


def test_merge_by_type_replaces_parts_of_the_same_type_and_keeps_the_rest() -> None:
    stored = [
        {"type": "work", "line1": "Office 1"},
        {"type": "postal", "line1": "1 Old Rd", "line2": "Flat 1", "countryCode": "GB"},
        {"type": "postal", "line1": "second postal"},
    ]
    merged = merge_by_type(stored, [{"type": "postal", "line1": "2 New Rd"}, {"type": "billing", "city": "Leeds"}])
    assert merged == [
        {"type": "work", "line1": "Office 1"},
        {"type": "postal", "line1": "2 New Rd", "line2": "Flat 1", "countryCode": "GB"},
        {"type": "postal", "line1": "second postal"},
        {"type": "billing", "city": "Leeds"},
    ]
    assert stored[1]["line1"] == "1 Old Rd"
    assert merge_by_type(None, [{"type": "home", "city": "York"}]) == [{"type": "home", "city": "York"}]


def test_merge_by_type_can_fill_only_the_empty_parts() -> None:
    stored = [{"type": "postal", "line1": "1 Old Rd", "city": ""}]
    given = [{"type": "postal", "line1": "2 New Rd", "city": "Leeds", "postalCode": "LS1 4AP"}, {"type": "home", "city": "York"}]
    assert merge_by_type(stored, given, only_empty=True) == [
        {"type": "postal", "line1": "1 Old Rd", "city": "Leeds", "postalCode": "LS1 4AP"},
        {"type": "home", "city": "York"},
    ]


def test_the_client_page_shows_everything_an_address_holds() -> None:
    client = Client(addresses=[
        {"type": "shipping", "street": "Damrak", "houseNumber": "12A", "city": "Amsterdam", "company": "Jansen BV",
         "firstName": "Maria", "lastName": "Jansen", "email": "maria@example.nl", "notes": "Ring twice", "isDefault": True},
        {"type": "work", "line1": "Office 1"},
    ])  # fmt: skip
    assert address_lines(client) == [
        ("Shipping address (default)", ["Maria Jansen", "Jansen BV", "Damrak 12A", "Amsterdam", "maria@example.nl", "Ring twice"]),
        ("Work", ["Office 1"]),
    ]
