"""The copied country names match phonenumbers' locale table, and no clientdock module loads that
table's package (its geodata costs every process ~100 MB)."""

from __future__ import annotations

import subprocess
import sys

from phonenumbers.geodata.locale import LOCALE_DATA

from clientdock.pipeline.country_names import LANGUAGES, NAMES


def _name(region: str, language: str) -> str | None:
    names = LOCALE_DATA.get(region, {})
    name = names.get(language)
    for _ in range(5):
        if not (name and name.startswith("*")):
            break
        name = names.get(name[1:])
    return name


def test_the_copy_holds_the_tables_names_in_our_languages() -> None:
    expected = sorted({name for region in LOCALE_DATA for language in LANGUAGES if (name := _name(region, language))})
    assert list(NAMES) == expected


def test_the_service_does_not_load_phonenumbers_geodata() -> None:
    code = "import sys, clientdock.app, clientdock.cli; print('phonenumbers.geodata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
