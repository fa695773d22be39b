"""Client types and the aliases users and source systems write for them."""

from __future__ import annotations

import re

CLIENT_TYPES: tuple[str, ...] = (
    "Individual",
    "PrivateLimitedCompany",
    "PublicLimitedCompany",
    "LimitedLiabilityPartnership",
    "Partnership",
    "SoleTrader",
    "Charity",
    "Trust",
    "Other",
)

_ALIASES: dict[str, str] = {
    "individual": "Individual",
    "personal": "Individual",
    "person": "Individual",
    "private": "Individual",
    "ind": "Individual",
    "privatelimitedcompany": "PrivateLimitedCompany",
    "ltd": "PrivateLimitedCompany",
    "limited": "PrivateLimitedCompany",
    "limitedcompany": "PrivateLimitedCompany",
    "company": "PrivateLimitedCompany",
    "privatecompany": "PrivateLimitedCompany",
    "ltdcompany": "PrivateLimitedCompany",
    "privateltd": "PrivateLimitedCompany",
    "privatelimited": "PrivateLimitedCompany",
    "companylimitedbyguarantee": "PrivateLimitedCompany",
    "companylimitedbyshares": "PrivateLimitedCompany",
    "bv": "PrivateLimitedCompany",
    "gmbh": "PrivateLimitedCompany",
    "publiclimitedcompany": "PublicLimitedCompany",
    "publiccompany": "PublicLimitedCompany",
    "plc": "PublicLimitedCompany",
    "nv": "PublicLimitedCompany",
    "ag": "PublicLimitedCompany",
    "limitedliabilitypartnership": "LimitedLiabilityPartnership",
    "llp": "LimitedLiabilityPartnership",
    "partnership": "Partnership",
    "generalpartnership": "Partnership",
    "limitedpartnership": "Partnership",
    "soletrader": "SoleTrader",
    "soleproprietor": "SoleTrader",
    "selfemployed": "SoleTrader",
    "soleproprietorship": "SoleTrader",
    "charity": "Charity",
    "registeredcharity": "Charity",
    "cio": "Charity",
    "charitableincorporatedorganisation": "Charity",
    "trust": "Trust",
    "familytrust": "Trust",
    "discretionarytrust": "Trust",
    "charitabletrust": "Trust",
    "other": "Other",
}

_FOLD = re.compile(r"[\s_\-.()]+")


def canonical_type(value: str) -> str | None:
    """The canonical type for ``value`` (case, spaces and punctuation ignored), or None."""
    return _ALIASES.get(_FOLD.sub("", value).lower())
