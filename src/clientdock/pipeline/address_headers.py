"""The header synonyms of the file door's address fields (``addresses.<type>.<part>``).

A header names a part ("City", "PLZ", "Code postal") and, by a prefix, the address type
("Billing City", "Rechnungs-PLZ", "Ville de facturation"); a header with no prefix is the
``postal`` address, the one letters go to. The real layouts of the tools firms export from:

* Outlook: "Business Street", "Business Street 2", "Business City", "Business Postal Code",
  "Business Country/Region" -> the ``business`` address, "Home …" -> ``home``; Outlook's
  "Other …" address is not taken (no type says what it is);
* Google Contacts: "Address 1 - Street", "Address 1 - Extended Address", "Address 1 - City",
  "Address 1 - Region", "Address 1 - Postal Code", "Address 1 - Country" -> ``postal``
  ("Address 1 - Formatted" repeats those parts and is not taken; nor is "Address 2 - …");
* QuickBooks: "Billing Address Line 1", "Billing Street", "Billing City", "Billing ZIP",
  "Shipping Address …", Desktop's "Bill to 1"…"Bill to 4", "Ship to 1"… -> ``billing``/``shipping``;
* Xero: "POAddressLine1"…"POCountry" -> ``postal``, "SAAddressLine1"… -> ``street`` (Xero's
  postal and street addresses, as the Xero connection maps them);
* Sage Accounting: "Main Address Line 1"… -> ``postal`` (its second address, "Address 2 …", whose type
  is a cell of the row, is not taken);
* FreeAgent, Sage, HubSpot: "Address 1", "Address Line 1", "Street1", "Street Address", "Town",
  "County", "Post Code", "State/Region", "Country/Region" -> ``postal``; Mailchimp's one-line
  "Address" is the first line, as it is.

A bare "Street" (beside "House Number", "Straße" beside "Hausnummer") is the ``street`` part;
after a type prefix ("Business Street", "Billing Street") it is the first line, as those
tools mean it.
"""

from __future__ import annotations

#: Headers of a part with no prefix (the ``postal`` address).
_BARE: dict[str, str] = {
    "line1": (
        "Address|Address Line 1|Address 1|Street Address|Street Address 1|Street 1|Adresse|Anschrift|Adresszeile 1|"
        "Adresse 1|Adresse ligne 1|Ligne d'adresse 1|Dirección|Dirección 1|Línea de dirección 1|Domicilio|Adres|"
        "Adresregel 1|Adres 1"
    ),
    "line2": (
        "Address Line 2|Address 2|Street Address 2|Street 2|Adresszeile 2|Adresszusatz|Adresse 2|Adresse ligne 2|"
        "Ligne d'adresse 2|Complément d'adresse|Dirección 2|Línea de dirección 2|Adresregel 2|Adres 2"
    ),
    "line3": "Address Line 3|Address 3|Street Address 3|Street 3|Adresszeile 3|Adresse 3|Adresse ligne 3|Dirección 3|Adresregel 3|Adres 3",
    "line4": "Address Line 4|Address 4|Street Address 4|Street 4|Adresszeile 4|Adresse 4|Adresse ligne 4|Dirección 4|Adresregel 4|Adres 4",
    "street": "Street|Street Name|Straße|Strasse|Straßenname|Rue|Voie|Calle|Vía|Straat|Straatnaam",
    "houseNumber": (
        "House Number|House No|Street Number|Building Number|Hausnummer|Hausnr|Numéro de rue|Numéro de voie|"
        "Número de calle|Huisnummer|Huisnr"
    ),
    "city": (
        "City|Town|Town/City|City/Town|Locality|Post Town|Stadt|Ort|Wohnort|Ville|Localité|Commune|Ciudad|Localidad|"
        "Población|Municipio|Plaats|Woonplaats|Stad"
    ),
    "region": (
        "Region|County|State|Province|State/Province|State/Region|Bundesland|Kanton|Région|Provincia|"
        "Comunidad autónoma|Estado|Provincie|Regio"
    ),
    "postalCode": "Postcode|Post Code|Postal Code|ZIP|ZIP Code|Zipcode|Postleitzahl|PLZ|Code postal|CP|Código postal|C.P.",
    "country": "Country|Country/Region|Nation|Land|Staat|Pays|País|Nación",
    "countryCode": "Country Code|ISO Country Code|Country/Region Code|Ländercode|Code pays|Code du pays|Código de país|Landcode",
}

#: Headers of a part after a type prefix ("Billing" + "City"); "Street" is a first line here.
_AFTER_PREFIX: dict[str, str] = {
    **_BARE,
    "line1": _BARE["line1"] + "|Street|Line 1|Address Street|1",
    "line2": _BARE["line2"] + "|Line 2|Extended Address|2",
    "line3": _BARE["line3"] + "|Line 3|3",
    "line4": _BARE["line4"] + "|Line 4|4",
    "street": "Street Name|Straße|Strasse|Straßenname|Rue|Calle|Straat|Straatnaam",
}

#: Per type: (prefixes joined before a part, whole headers that are the type's first line,
#: suffixes joined after a part: "Ville" + "de facturation").
_TYPES: dict[str, tuple[str, str, str]] = {
    "postal": (
        "Postal|Postal Address|Mailing|Mailing Address|Correspondence|Correspondence Address|PO|Address|Address 1|Post|Postadres|"
        "Main Address",
        "Postal Address|Mailing Address|Correspondence Address|Postanschrift|Postadresse|Adresse postale|Dirección postal|Postadres|"
        "Correspondentieadres",
        "",
    ),
    "street": (
        "SA|Physical|Physical Address|Visiting|Visiting Address|Bezoek|Bezoekadres",
        "Physical Address|Visiting Address|Bezoekadres",
        "",
    ),
    "billing": (
        "Billing|Billing Address|Bill To|Invoice|Invoice Address|Invoicing|Rechnungs|Rechnungsadresse|Factuur|Factuuradres",
        "Billing Address|Invoice Address|Bill To|Rechnungsadresse|Rechnungsanschrift|Adresse de facturation|"
        "Dirección de facturación|Factuuradres",
        "de facturation|de facturación",
    ),
    "shipping": (
        "Shipping|Shipping Address|Ship To|Delivery|Delivery Address|Liefer|Lieferadresse|Aflever|Afleveradres|Bezorg|Bezorgadres",
        "Shipping Address|Delivery Address|Ship To|Lieferadresse|Lieferanschrift|Adresse de livraison|Dirección de envío|"
        "Dirección de entrega|Afleveradres|Bezorgadres",
        "de livraison|de envío|de entrega",
    ),
    "registered": (
        "Registered|Registered Office|Registered Address|Registered Office Address",
        "Registered Office|Registered Address|Registered Office Address|Firmensitz|Siège social|Domicilio social|Statutair adres",
        "du siège|del domicilio social",
    ),
    "business": (
        "Business|Business Address|Work|Work Address|Office|Office Address|Geschäftlich|Geschäftsadresse",
        "Business Address|Work Address|Office Address|Geschäftsadresse|Adresse professionnelle|Dirección del trabajo|Werkadres|"
        "Zakelijk adres",
        "professionnelle|del trabajo",
    ),
    "home": (
        "Home|Home Address|Private|Private Address|Privat|Privatadresse",
        "Home Address|Private Address|Privatadresse|Adresse personnelle|Adresse du domicile|Dirección particular|Thuisadres|"
        "Privéadres|Woonadres",
        "personnelle|du domicile|particular",
    ),
}


def _split(text: str) -> list[str]:
    return [part for part in text.split("|") if part]


def _synonyms() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for kind, (prefixes, whole, suffixes) in _TYPES.items():
        for part in _BARE:
            headers = out.setdefault(f"addresses.{kind}.{part}", [])
            if kind == "postal":
                headers.extend(_split(_BARE[part]))
            if part == "line1":
                headers.extend(_split(whole))
            for prefix in _split(prefixes):
                headers.extend(f"{prefix} {name}" for name in _split(_AFTER_PREFIX[part]))
            for suffix in _split(suffixes):
                headers.extend(f"{name} {suffix}" for name in _split(_BARE[part]))
    return {name: tuple(dict.fromkeys(headers)) for name, headers in out.items()}


#: ``addresses.<type>.<part>`` -> the headers that name it.
ADDRESS_SYNONYMS: dict[str, tuple[str, ...]] = _synonyms()
#: The only address headers a near miss may match ("Adress Line 1"): those without a type
#: prefix. A prefix and a short part make headers so alike ("Business" + "CP", "Registered" +
#: "State") that other columns ("Business", "Registered Date") would be taken for them.
NEAR_MISS_HEADERS: tuple[str, ...] = tuple(header for text in _BARE.values() for header in _split(text))
