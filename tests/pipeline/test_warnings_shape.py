"""The shape of a warning on its way: staged with its record and read back (text staged
before warnings were structured too), and said in words with the field's label."""

from __future__ import annotations

import json

import pytest

from clientdock.clients.labels import field_label, field_sentence, humanize
from clientdock.jobs import staging
from clientdock.pipeline.records import FieldWarning, RawRecord


def test_a_staged_record_keeps_its_warnings() -> None:
    warnings = [FieldWarning("dateOfBirth", "'03/14' has no year", "03/14"), FieldWarning(None, "2 cell(s) beyond", ["x", "y"])]
    record = RawRecord(index=4, fields={"firstName": "Ann"}, warnings=warnings, line=5)
    assert staging.decode(staging.encode(record)).warnings == warnings


def test_a_warning_staged_as_text_reads_back_as_a_row_note() -> None:
    line = json.loads(staging.encode(RawRecord(index=1, fields={})))
    line["w"] = ["ID 'x' is not a client of this tenant"]
    assert staging.decode(json.dumps(line)).warnings == [FieldWarning(None, "ID 'x' is not a client of this tenant")]


def test_a_warning_reads_as_field_colon_message() -> None:
    assert FieldWarning("phone", "kept as given", "x").text == "phone: kept as given"
    assert FieldWarning(None, "a note").text == "a note"
    assert FieldWarning.from_dict({"field": "gender", "value": "?", "message": "no"}) == FieldWarning("gender", "no", "?")


@pytest.mark.parametrize(
    ("field", "message", "code", "said"),
    [
        ("firstName", "is required", "missing", "First name is required"),
        ("email", "'x' is not a valid email address", "invalid", "Email 'x' is not a valid email address"),
        ("dateOfBirth", "'03/14' has no year", None, "Date of birth '03/14' has no year"),
        ("email", "duplicate: the same email as row 3", "duplicate", "Email is a duplicate (the same email as row 3)"),
        ("date_of_birth", "is not a date", None, "Date of birth is not a date"),
        ("id", "'x' is not a client", None, "ID 'x' is not a client"),
        (None, "each user must be a JSON object", None, "Each user must be a JSON object"),
        ("shoeSize", "is not a client field", "unknown", "Shoe size is not a client field"),
    ],
)
def test_a_problem_is_said_with_the_fields_label(field: str | None, message: str, code: str | None, said: str) -> None:
    assert field_sentence(field, message, code) == said


def test_the_labels_the_web_page_uses() -> None:
    assert (field_label("firstName"), field_label("company_number"), humanize("PrivateLimitedCompany")) == (
        "First name", "Company number", "Private limited company",
    )  # fmt: skip
