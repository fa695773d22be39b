"""The data that flows through the pipeline, from a door's raw record to a row outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from clientdock.errors import FieldError
from clientdock.pipeline.existing import OnExisting

Action = Literal["created", "updated", "unchanged", "skipped", "failed"]
MatchKey = Literal["id", "trackingId", "ref", "email"]
NameSource = Literal["parts", "company"]


@dataclass(frozen=True)
class FieldWarning:
    """Something a row imported without, or a note on it: which field (the API's name, None
    for the row as a whole), which value and why. A warning never fails the row."""

    field: str | None
    message: str
    value: Any = None

    @property
    def text(self) -> str:
        """``field: message``, the readable form kept in a row's ``messages``."""
        return f"{self.field}: {self.message}" if self.field else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldWarning:
        return cls(data.get("field"), str(data.get("message") or ""), data.get("value"))


@dataclass(frozen=True)
class Ref:
    """An identity in another system: (source, external id, language)."""

    source: str
    external_id: str
    language: str = ""

    @property
    def lookup_key(self) -> str:
        return f"{self.source}/{self.external_id}/{self.language}"


@dataclass
class RawRecord:
    """One input item after the door: canonical (camelCase) field names, raw values.

    Only the fields present in the input are in ``fields``: omit means unchanged.
    """

    index: int
    fields: dict[str, Any]
    refs: list[Ref] = field(default_factory=list)
    parent: Ref | None = None
    lookup_key: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldWarning] = field(default_factory=list)
    line: int | None = None
    source: Any = None
    #: The type the door inferred from the record's names (``pipeline.organisations``): a new
    #: client gets it unless ``fields`` gives a type; an existing client keeps its own.
    inferred_type: str | None = None


@dataclass
class Candidate:
    """A normalised record (model attribute names) on its way to the database."""

    index: int
    lookup_key: str | None
    values: dict[str, Any]
    refs: list[Ref] = field(default_factory=list)
    parent: Ref | None = None
    match_id: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldWarning] = field(default_factory=list)
    client_id: str | None = None
    matched_by: str | None = None
    #: How ``values["name"]`` was derived when the record gave no name: "parts" (first, middle,
    #: last) or "company"; None when the record named it or none was derived.
    name_from: NameSource | None = None
    #: ``RawRecord.inferred_type``: the type a client this candidate creates gets, unless ``values`` has one.
    inferred_type: str | None = None

    @property
    def client_type(self) -> str | None:
        """The type the record gives, else the one inferred from its names."""
        given = self.values.get("type")
        return given if isinstance(given, str) and given else self.inferred_type

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def fail(self, field_name: str | None, message: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(field_name, message, self.index, code))

    def warn(self, field_name: str | None, message: str, value: Any = None) -> None:
        self.warnings.append(FieldWarning(field_name, message, value))


@dataclass(frozen=True)
class Policy:
    """How a door wants its records applied."""

    match_on: tuple[MatchKey, ...]
    required: tuple[str, ...] = ()
    required_on_create: tuple[str, ...] = ()
    #: Required of an individual's record (beside ``required``), and of an organisation's
    #: (any other type, given or inferred: ``pipeline.organisations``).
    required_of_individuals: tuple[str, ...] = ()
    required_of_organisations: tuple[str, ...] = ()
    allow_create: bool = True
    #: A matched client: update it, fill only its empty fields, or skip it (``pipeline.existing``).
    on_existing: OnExisting = "update"
    job_id: str | None = None
    actor: str | None = None
    #: The audit action of a changed field ("undone" when an undo restores it).
    update_action: str = "updated"
    #: An update's addresses are merged into the stored ones by type (the file door:
    #: ``pipeline.addresses.merge_by_type``) instead of replacing the whole list.
    addresses_by_type: bool = False


@dataclass
class RowOutcome:
    index: int
    lookup_key: str | None
    action: Action
    client_id: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldWarning] = field(default_factory=list)
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        located = [f"{e.field}: {e.message}" if e.field else e.message for e in self.errors]
        return located + [w.text for w in self.warnings]
