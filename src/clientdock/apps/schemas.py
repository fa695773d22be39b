"""The JSON shapes of the partner-app endpoints. They keep the seed's snake_case names (S1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr


class SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppIn(SeedModel):
    name: StrictStr = Field(description="Display name, 1-255 characters.", examples=["Test Import Clients App"])
    app_code_name: StrictStr = Field(
        description="Unique code of the app, used in paths: 1-64 lower-case letters, digits, '-' or '_', starting with a letter "
        "or digit. A code already taken is 409.",
        examples=["testimportapp1769404391"],
    )
    app_type: StrictStr = Field(
        description="What the app does: import_clients (may import clients into the businesses it is assigned to), "
        "export_clients, sync_clients, other (registered and assignable; no client endpoints yet).",
        examples=["import_clients"],
    )
    redirect_uri: StrictStr = Field(
        description="Absolute http(s) URL (no fragment) the app's users return to.", examples=["https://example.com/callback"]
    )


class AssignmentSettings(SeedModel):
    assignment_mode: Literal["internal"] = Field(default="internal", description="How the app is assigned; only 'internal' for now.")


class AssignmentIn(SeedModel):
    app_code_name: StrictStr = Field(description="The app to assign.", examples=["testimportapp1769404391"])
    assignee_uid: StrictStr = Field(description="The business: its tenant code (its internal id is accepted too).", examples=["demo"])
    assignee_type: StrictStr = Field(default="business", description="Only 'business'.", examples=["business"])
    settings: AssignmentSettings | None = Field(default=None, description='Defaults to {"assignment_mode": "internal"}.')


class ImportParams(SeedModel):
    should_override: StrictBool = Field(
        default=False,
        description="false: a client that already exists (same email, case-insensitive) is left as it is and reported as "
        "`skipped`; true: it is updated from the mapping (fields not in the mapping stay unchanged).",
    )
    upload_type: Literal["single", "bulk"] = Field(
        default="single",
        description="single: `fields_mapping` is one client's fields (an object); bulk: a list of such objects (1-1,000).",
    )
    send_notifications_when_done: StrictBool = Field(
        default=False, description="true: when the import ends the business gets an in-app notification and its webhooks fire."
    )


class AppImportIn(SeedModel):
    import_params: ImportParams
    fields_mapping: Any = Field(
        description="Client fields in snake_case: first_name, middle_name, last_name, name, title, email, phone, mobile, company, "
        "company_number, tax_number, coc_number, debtor_id, date_of_birth, gender, primary_language, abbreviation, login, "
        "type, active, tags, client_group_id, note, project, desk, tracking_id, attributes, addresses. An object for "
        "upload_type single, a list of objects for bulk. An unknown key fails its row with a message naming the key.",
        json_schema_extra={"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}, "maxItems": 1000}]},
        examples=[{"first_name": "John", "email": "john.doe@example.com", "phone": "+1234567890"}],
    )
