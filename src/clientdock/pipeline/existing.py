"""``onExisting``: what an import does to a client that already exists.

``update`` (the default) writes every field the row gives; ``fillEmpty`` writes only the fields
that are empty on the client; ``skip`` leaves the client alone (the row is ``skipped``). Every
door reads the option with :func:`parse_on_existing`; :func:`keep_empty_only` is the one place
that decides what ``fillEmpty`` writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from clientdock.clients.fields import BY_ATTR
from clientdock.errors import ValidationFailed

OnExisting = Literal["update", "fillEmpty", "skip"]
ON_EXISTING: tuple[OnExisting, ...] = ("update", "fillEmpty", "skip")
DEFAULT: OnExisting = "update"
#: The option's name at every door (query parameter, form field, body key).
OPTION = "onExisting"
#: The message of a row left alone because a client matches and ``onExisting`` is ``skip``.
SKIPPED = "an existing client matches; left unchanged (onExisting: skip)"
#: A stored attribute computed from another: it is written exactly when its source is.
DERIVED_FROM: dict[str, str] = {"email_key": "email", "phone_e164": "phone", "mobile_e164": "mobile"}
DOC = (
    "What to do with a client that already exists: `update` (default) writes every field given; `fillEmpty` writes only "
    "the fields that are empty on the client (no value, an empty text, an empty list; lists such as tags and addresses are "
    "taken whole, never merged; the Unassigned group counts as no group); `skip` leaves the client as it is and reports "
    "the row as `skipped`."
)


def parse_on_existing(value: Any, name: str = OPTION) -> OnExisting:
    """The option as sent (absent or empty: ``update``); 400 naming ``name`` and the allowed values otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT
    if isinstance(value, str) and value.strip() in ON_EXISTING:
        return cast(OnExisting, value.strip())
    shown = repr(value) if isinstance(value, str) else type(value).__name__
    raise ValidationFailed.for_field(name, f"must be one of {', '.join(ON_EXISTING)}, not {shown}")


def is_empty(value: Any) -> bool:
    """No value, an empty text, an empty list or object: what ``fillEmpty`` may fill."""
    return value is None or (isinstance(value, str | list | dict) and not value)


def keep_empty_only(values: dict[str, Any], current: Mapping[str, Any], *, unassigned_group_id: str, derived_name: bool) -> list[str]:
    """Drop from ``values`` what would overwrite a field the client already has (``fillEmpty``).

    A derived attribute (email_key, phone_e164, mobile_e164) goes with its source field. A name
    the pipeline derived from the name parts or the company (``derived_name``) is left to follow
    them, as on every update (``normalise.follow_derived_name``). Returns the JSON names of the
    given fields whose different value was not written, so the row can say so.
    """
    kept: list[str] = []
    for attr in [a for a in BY_ATTR if a in values]:
        # created_at is never updated (apply.NO_UPDATE_ON); a derived name follows its parts.
        if attr == "created_at" or (attr == "name" and derived_name):
            continue
        stored = current.get(attr)
        empty = is_empty(stored) or (attr == "client_group_id" and stored == unassigned_group_id)
        if empty:
            continue
        if stored != values[attr]:
            kept.append(BY_ATTR[attr].json)
        del values[attr]
    for derived, source in DERIVED_FROM.items():
        if derived in values and source not in values:
            del values[derived]
    return kept


def kept_message(fields: list[str]) -> str:
    """The row's note on the values ``fillEmpty`` did not write."""
    return f"kept the client's own {', '.join(fields)} (onExisting: fillEmpty writes only empty fields)"
