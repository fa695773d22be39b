"""Telling a business what happened: in-app notifications and signed webhooks.

``job_events.import_finished`` is the job engine's finish hook; ``service`` the notifications
and webhooks; ``dispatcher`` delivers webhooks with retries; ``routes`` their HTTP.
"""

from clientdock.notify.job_events import import_finished

__all__ = ["import_finished"]
