"""The client: its one field table, model, JSON shapes and repository (no import logic).

- ``fields``: :data:`FIELDS`, the one declared list of client fields every door reads;
- ``models``: :class:`Client`, :class:`ExternalRef`, :class:`ClientChange` (the audit trail);
- ``schemas``: the JSON the API reads and answers (generated from ``FIELDS``);
- ``repository``: scoped reads, lists, groups, the audit writer and the one client delete;
- ``export``: the CSV export and import template; ``settings``: the tenant's defaults, checked;
- ``routes``: reads, history, groups, settings and the export over HTTP.
"""

from clientdock.clients.fields import FIELDS, FieldSpec
from clientdock.clients.models import Client, ClientChange, ExternalRef

__all__ = ["FIELDS", "Client", "ClientChange", "ExternalRef", "FieldSpec"]
