"""Connections to accounting platforms (Xero, QuickBooks Online) and their import door (S0).

``service``: the OAuth 2.0 + PKCE round trip and the connections (tokens encrypted at rest);
``xero``/``quickbooks``: careful clients of each platform behind ``providers.Provider``;
``mapping``: a platform's contact as a raw record; ``door``: the import request, the worker's
stager and the finish hook; ``routes``: the HTTP.
"""
