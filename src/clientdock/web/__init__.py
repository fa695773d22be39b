"""The web page: server-rendered Jinja2 templates, htmx 2.0.11 (vendored in ``static/``,
from the npm package ``htmx.org``), one stylesheet, a few lines of our own script.

Pages live in ``routes.py`` (the one router), sign-in in ``signin.py``, client pages in
``client_pages.py``, the Import dialog in ``import_dialog.py`` (its steps over the CSV door in
``import_flow.py``, the kept files in ``uploads.py``), the Imports pages in
``import_pages.py``, the bell and toasts in ``notifications.py``; sessions and CSRF in
``auth.py``; HTML error pages in ``routing.py``.
"""
