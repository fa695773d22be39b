"""The JSON shapes of the partner-app endpoints. They keep the seed's snake_case names (S1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from clientdock.imports.schemas import ImportJob, JobLinks


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
        "`skipped`; true: it is updated from the mapping (fields not in the mapping stay unchanged). The query parameter "
        "`onExisting` (update, fillEmpty, skip) wins when given.",
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


# --- answers ---------------------------------------------------------------------------------------


class SeedOut(BaseModel):
    """An answer in the seed's snake_case names."""


class AppOut(SeedOut):
    """A registered partner app (without its secret)."""

    uid: str = Field(description="The app's id.")
    name: str
    app_code_name: str = Field(description="Unique code of the app, used in paths.")
    app_type: str = Field(description="import_clients, export_clients, sync_clients or other.")
    redirect_uri: str
    client_id: str = Field(description="The app's public client id.")
    created_at: str = Field(description="ISO 8601 instant with its UTC offset.")


class AppCredentials(AppOut):
    """A partner app with its new credential (shown only in this answer)."""

    client_secret: str = Field(description="The app's API key (`X-API-Key` or `Authorization: Bearer`); shown only here.")


class AppCredentialsAnswer(SeedOut):
    """The app just registered or given a new secret."""

    data: AppCredentials


class AppAnswer(SeedOut):
    """One partner app."""

    data: AppOut


class AppPage(SeedOut):
    """A page of partner apps, oldest first."""

    data: list[AppOut]
    total: int = Field(description="How many apps there are in all.")
    page: int
    page_size: int = Field(alias="pageSize")


class AssignmentOut(SeedOut):
    """An app's assignment to a business: the app may act for the business while it exists."""

    uid: str = Field(description="The assignment's id.")
    app_code_name: str
    app_uid: str = Field(description="The app's id.")
    assignee_uid: str = Field(description="The business's tenant code.")
    assignee_id: str = Field(description="The business's internal id.")
    assignee_type: str = Field(description="Always 'business'.")
    settings: dict[str, Any] = Field(description='The assignment\'s settings, e.g. {"assignment_mode": "internal"}.')
    created_at: str = Field(description="ISO 8601 instant with its UTC offset.")


class AssignmentAnswer(SeedOut):
    """One app assignment."""

    data: AssignmentOut


class AssignmentPage(SeedOut):
    """A page of app assignments, oldest first."""

    data: list[AssignmentOut]
    total: int = Field(description="How many assignments match in all.")
    page: int
    page_size: int = Field(alias="pageSize")


class AppItemError(SeedOut):
    """A problem of one item: the field as the app sent it (snake_case; an unknown key as sent) and why."""

    model_config = ConfigDict(extra="allow")

    field: str | None = Field(description="The field (null: the whole item).")
    message: str
    code: str | None = Field(default=None, description="invalid, unknown (a key that is not a client field), duplicate, …")
    row: int | None = Field(default=None, description="The item's position in the request (0-based).")


class AppItemWarning(SeedOut):
    """A value the item imported without (or kept as given), or a note on the item."""

    field: str | None = Field(description="The field as the app sent it (snake_case); null: the whole item.")
    value: Any = Field(default=None, description="The value as sent.")
    message: str


class AppImportItem(SeedOut):
    """One item's outcome: its position, what happened, the client, why."""

    index: int = Field(description="The item's position in the request (0-based).")
    action: str = Field(description="created, updated, unchanged, skipped or failed")
    id: str | None = Field(description="The client's id.")
    lookup_key: str | None = Field(description="The email the item was matched by.")
    messages: list[str] = Field(description="'field: message' per error, then the warnings.")
    errors: list[AppItemError]
    warnings: list[AppItemWarning] = Field(
        description="What the item imported without (a date of birth, phone, type or gender that could not be read) and other notes."
    )


class AppImportParamsOut(SeedOut):
    """The import_params the import was made with."""

    upload_type: str = Field(description="single or bulk")
    should_override: bool = Field(description="false when existing clients were skipped (onExisting skip)")
    send_notifications_when_done: bool


class AppJobLinks(JobLinks):
    """The job's links, and its status endpoint for the app."""

    app: str = Field(description="This import's status endpoint for the app.")


def _without_rows(schema: dict[str, Any]) -> None:
    """An app import never has the file imports' ``rows`` preview: it has ``data``."""
    schema.get("properties", {}).pop("rows", None)


class AppImportJob(ImportJob):
    """An import made through a partner app: the job (camelCase, as every import) plus the seed's keys (snake_case)."""

    model_config = ConfigDict(json_schema_extra=_without_rows)

    links: AppJobLinks
    app_code_name: str = Field(alias="app_code_name")
    business_uid: str = Field(alias="business_uid", description="The business's tenant code.")
    import_params: AppImportParamsOut = Field(alias="import_params")
    data: list[AppImportItem] = Field(alias="data", description="One entry per item, in the request's order.")
