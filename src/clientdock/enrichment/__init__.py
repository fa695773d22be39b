"""Enrichment from the Companies House register.

* :mod:`.numbers`: ``normalise_company_number`` (the register's 8 characters, or ``None``) and
  ``describe_invalid`` (why not);
* :mod:`.companies_house`: ``CompaniesHouseClient`` (profile, officers, search; Basic auth, a
  per-key budget, 429s waited out until ``X-Ratelimit-Reset``) and the pure functions that turn
  its answers into what we store: ``register_data``, ``key_dates``, ``officer_contacts``,
  ``pick_unique_active``.
"""
