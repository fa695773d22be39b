"""The doors of our own API, and the jobs every door makes.

One module per door: ``single`` (create, PATCH, the S2 upsert, delete), ``bulk`` (S4),
``files`` (CSV/spreadsheet, S3; ``file_records`` reads a file into records, ``upload`` receives
it); ``undo`` reverts an import; ``service`` starts and reads jobs; ``respond`` gives the
hybrid 201/202 answer; ``schemas`` the JSON; ``routes`` all of it over HTTP.
"""
