"""The one pipeline every door runs: map → validate → normalise → match → apply → report.

One module per stage (``headers``/``parse`` read files for the file door's map step,
``values`` parses single values); ``run.run`` runs a batch in the caller's transaction.
No HTTP, no DBOS and no sessions of its own.
"""

from clientdock.pipeline.records import Policy, RawRecord, Ref, RowOutcome
from clientdock.pipeline.report import ACTIONS, counts, outcome_json

__all__ = ["ACTIONS", "Policy", "RawRecord", "Ref", "RowOutcome", "counts", "outcome_json"]
