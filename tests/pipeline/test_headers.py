"""Header matching: synonyms in five languages, vendor exports, explicit mappings, duplicates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clientdock.errors import ValidationFailed
from clientdock.pipeline.headers import CANONICAL_FIELDS, SYNONYMS, match_headers, normalize_header
from clientdock.pipeline.parse import open_table

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTATIONS: dict[str, dict[str, Any]] = {
    entry["path"]: entry for entry in json.loads((CORPUS / "expectations.json").read_text(encoding="utf-8"))["files"]
}


def header_of(path: str) -> list[str]:
    info, _ = open_table(CORPUS / path)
    return info.header


def test_canonical_fields() -> None:
    assert len([name for name in CANONICAL_FIELDS if not name.startswith("addresses.")]) == 28
    assert len(CANONICAL_FIELDS) == 28 + 7 * 11  # the address parts of each type
    assert set(SYNONYMS) <= set(CANONICAL_FIELDS)
    for name in CANONICAL_FIELDS:
        assert match_headers([name]).fields == [name if name != "mobile" else "phone"]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # S3.1 and the usual English spellings
        ("ID", "id"),
        ("First Name", "firstName"),
        ("first_name", "firstName"),
        ("FIRST-NAME", "firstName"),
        ("  first   name ", "firstName"),
        ("FirstName", "firstName"),
        ("Given name", "firstName"),
        ("Forename", "firstName"),
        ("Surname", "lastName"),
        ("Family Name", "lastName"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("E-mail Address", "email"),
        ("e_mail", "email"),
        ("Company Name", "company"),
        ("Organization", "company"),
        ("Organisation", "company"),
        ("Phone Number", "phone"),
        ("Telephone", "phone"),
        ("Business Phone", "phone"),
        ("Notes", "note"),
        ("Date of Birth", "dateOfBirth"),
        ("Birthday", "dateOfBirth"),
        ("DOB", "dateOfBirth"),
        ("Tags", "tags"),
        ("Labels", "tags"),
        ("Categories", "tags"),
        ("Tracking ID", "trackingId"),
        ("VAT Number", "taxNumber"),
        ("Company Number", "companyNumber"),
        ("KvK-nummer", "cocNumber"),
        ("Primary Language", "primaryLanguage"),
        ("Client Group", "clientGroupId"),
        # Google Contacts
        ("E-mail 1 - Value", "email"),
        ("Phone 1 - Value", "phone"),
        ("Organization 1 - Name", "company"),
        ("Additional Name", "middleName"),
        ("Name Prefix", "title"),
        # German
        ("Vorname", "firstName"),
        ("Nachname", "lastName"),
        ("E-Mail-Adresse", "email"),
        ("Firma", "company"),
        ("Telefon", "phone"),
        ("Telefon geschäftlich", "phone"),
        ("Geburtstag", "dateOfBirth"),
        ("Notizen", "note"),
        ("Kategorien", "tags"),
        # French
        ("Prénom", "firstName"),
        ("Prenom", "firstName"),
        ("Nom", "lastName"),
        ("Courriel", "email"),
        ("Adresse e-mail", "email"),
        ("Adresse de messagerie", "email"),
        ("Société", "company"),
        ("Téléphone", "phone"),
        ("Date de naissance", "dateOfBirth"),
        # Spanish
        ("Nombre", "firstName"),
        ("Apellidos", "lastName"),
        ("Correo electrónico", "email"),
        ("Empresa", "company"),
        ("Teléfono", "phone"),
        ("Fecha de nacimiento", "dateOfBirth"),
        # Dutch
        ("Voornaam", "firstName"),
        ("Achternaam", "lastName"),
        ("E-mailadres", "email"),
        ("Bedrijf", "company"),
        ("Telefoon", "phone"),
        ("Geboortedatum", "dateOfBirth"),
    ],
)
def test_synonyms(header: str, field: str) -> None:
    match = match_headers([header])
    assert match.fields == [field]
    assert match.mapping == {header: field}
    assert match.unknown == []


@pytest.mark.parametrize(
    ("header", "field"), [("Mobile", "mobile"), ("Mobile Phone", "mobile"), ("Mobiltelefon", "mobile"), ("Móvil", "mobile")]
)
def test_mobile_synonyms_beside_a_phone_column(header: str, field: str) -> None:
    assert match_headers(["Phone", header]).fields == ["phone", field]


def test_lone_mobile_column_fills_phone() -> None:
    """The corpus's basics file expects "Mobile" stored as the client's phone."""
    assert match_headers(["First Name", "Mobile"]).fields == ["firstName", "phone"]
    assert match_headers(["First Name", "Mobile"], {"Mobile": "mobile"}).fields == ["firstName", "mobile"]


def test_normalize_header() -> None:
    assert normalize_header(" E-Mail-Adresse ") == "emailadresse"
    assert normalize_header("Correo_Electrónico") == "correoelectronico"
    assert normalize_header("Straße") == "strasse"


def test_near_miss_is_guessed_but_unrelated_headers_are_not() -> None:
    match = match_headers(["Frist Name", "Emial Address", "Shoe size", "Nickname", "Maiden Name"])
    assert match.fields == ["firstName", "email", None, None, None]
    assert match.guessed == {"Frist Name": "firstName", "Emial Address": "email"}


def test_first_column_wins_and_later_duplicates_are_reported() -> None:
    match = match_headers(["Email", "Name", "E-mail Address", "email"])
    assert match.fields == ["email", "name", None, None]
    assert match.duplicates == {"E-mail Address": "email", "email": "email"}
    assert match.unknown == ["E-mail Address", "email"]


def test_nameless_and_unknown_columns() -> None:
    match = match_headers(["firstName", "", "Shoe size", ""])
    assert match.unknown == ["", "Shoe size", ""]
    assert match.fields == ["firstName", None, None, None]


def test_values_pads_short_rows() -> None:
    match = match_headers(["First Name", "Shoe size", "E-mail"])
    assert match.values(["Ada"]) == {"firstName": "Ada", "email": ""}
    assert match.column_of("email") == 2
    assert match.column_of("phone") is None


# --- explicit mappings --------------------------------------------------------------------


def test_explicit_mapping_overrides_and_the_rest_is_automatic() -> None:
    match = match_headers(["Given", "Work mail", "Surname", "Email"], {"Given": "firstName", "Work mail": "email"})
    assert match.fields == ["firstName", "email", "lastName", None]
    assert match.duplicates == {"Email": "email"}


def test_explicit_mapping_matches_headers_loosely_and_accepts_field_spellings() -> None:
    match = match_headers(["First Name", "Mail Address"], {"first name": "first_name", "MAIL ADDRESS": "Email"})
    assert match.fields == ["firstName", "email"]


def test_explicit_empty_field_ignores_a_column() -> None:
    match = match_headers(["First Name", "Birthday"], {"Birthday": ""})
    assert match.fields == ["firstName", None]
    assert match.unknown == ["Birthday"]


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ({"First Name": "shoeSize"}, "shoeSize"),
        ({"Nope": "firstName"}, "Nope"),
        ({"First Name": "email", "E-mail": "email"}, "email"),
    ],
)
def test_bad_explicit_mapping_is_400_on_mapping(mapping: dict[str, str], named: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        match_headers(["First Name", "E-mail"], mapping)
    assert caught.value.status == 400
    assert {error.field for error in caught.value.errors} == {"mapping"}
    assert named in caught.value.detail


def test_every_bad_mapping_entry_is_reported() -> None:
    with pytest.raises(ValidationFailed) as caught:
        match_headers(["a"], {"x": "firstName", "a": "nope"})
    assert len(caught.value.errors) == 2


# --- the corpus ---------------------------------------------------------------------------


def test_outlook_export_maps_without_a_mapping() -> None:
    entry = EXPECTATIONS["exports/outlook_contacts_cp1252.csv"]
    match = match_headers(entry["parse"]["header"])
    for header, field in {"First Name": "firstName", "Last Name": "lastName", "E-mail Address": "email", "Company": "company"}.items():
        assert match.mapping[header] == field
    assert match.mapping["Mobile Phone"] == "mobile"
    deliberate = {"Middle Name", "Title", "Business Phone", "Birthday", "Notes"}  # mapped on purpose to real fields
    address_parts = ("Street", "City", "State", "Postal Code", "Country/Region")
    deliberate |= {f"{kind} {part}" for kind in ("Business", "Home") for part in address_parts}
    assert {name for name in entry["import"]["unknown_columns"] if name not in match.unknown} == deliberate


def test_outlook_export_with_its_mapping() -> None:
    entry = EXPECTATIONS["exports/outlook_contacts_cp1252.csv"]
    mapping = entry["import"]["request"]["mapping"]
    match = match_headers(entry["parse"]["header"], mapping)
    assert {header: match.mapping[header] for header in mapping} == mapping
    assert "Business Phone" in match.unknown  # phone is taken by the mapped Mobile Phone


def test_google_export_with_and_without_its_mapping() -> None:
    entry = EXPECTATIONS["exports/google_contacts.csv"]
    header = entry["parse"]["header"]
    mapping = entry["import"]["request"]["mapping"]
    for explicit in (mapping, None):
        match = match_headers(header, explicit)
        assert {name: match.mapping[name] for name in mapping} == mapping
        deliberate = {"Name", "Additional Name", "Name Prefix", "Birthday", "Gender", "Notes", "Language"}
        assert {name for name in entry["import"]["unknown_columns"] if name not in match.unknown} == deliberate


def test_basics_file_maps_every_column() -> None:
    header = EXPECTATIONS["clients/basics_clients.csv"]["parse"]["header"]
    assert match_headers(header).fields == ["firstName", "lastName", "email", "active", "type", "phone"]


NO_REQUIRED = [path for path, entry in EXPECTATIONS.items() if (entry.get("import") or {}).get("outcome") == "no_required_columns"]


@pytest.mark.parametrize("path", NO_REQUIRED)
def test_files_without_client_columns_map_no_required_field(path: str) -> None:
    missing = EXPECTATIONS[path]["import"]["missing_columns"]
    match = match_headers(header_of(path))
    assert not set(missing) & set(match.fields)


def test_a_fax_column_is_never_a_near_miss_of_the_tax_number() -> None:
    match = match_headers(["ContactName", "EmailAddress", "FaxNumber", "TaxNumber"])
    assert match.mapping.get("TaxNumber") == "taxNumber"
    assert "FaxNumber" in match.unknown
