"""Match a file's column headers to canonical client fields (the "map" step of the pipeline).

Users upload what their tools export: Outlook, Google Contacts, Excel sheets, in English, German,
French, Spanish or Dutch. S3.1 asks for case- and space-insensitive matching ("First Name" =
firstName); we go further so that real exports import without a mapping:

* a header is *normalised* before lookup: accents dropped, case folded, every character that is
  not a letter or digit removed ("E-Mail-Adresse" = "email adresse" = "EmailAdresse");
* a synonym table maps normalised headers to fields (``firstName`` <- "Given Name", "Vorname",
  "Prénom", "Nombre", "Voornaam"...), the canonical names themselves included;
* a near miss ("Frist Name") is matched with rapidfuzz only at a high score and only when it
  points at one field, so an unrelated header is never pulled in;
* a field is never filled from two columns: the first column wins, later ones are reported as
  duplicates (and as unknown, since they are not imported);
* an address column fills one part of one address, ``addresses.<type>.<part>`` (the headers are
  in ``pipeline.address_headers``; near misses are tried only for those without a type prefix);
* a column headed only "Mobile" (no phone column in the file) fills ``phone``, the one phone
  field S3 knows; beside a phone column it fills ``mobile``;
* "Client Name"/"Name" fill ``name``, "Company"/"Company Name"/"Organisation"/"Firma"/
  "Raison sociale"/"Empresa"/"Bedrijfsnaam" fill ``company``, whatever else the file has: the
  row, not the header, decides what a company column means (``pipeline.organisations``) -
  beside a person's name it is their employer, alone it is the organisation's own name (the
  client's name is then taken from it).

An explicit mapping ``{"Column header": "clientField"}`` takes precedence over all of this; the
columns it does not name are still matched automatically, but cannot take a field it assigned.
An empty field name in the mapping means "ignore this column".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from clientdock.clients.fields import ADDRESS_FILE_FIELDS, ADDRESS_FILE_TYPES, ADDRESS_PARTS, FILE_FIELDS
from clientdock.errors import FieldError, ValidationFailed
from clientdock.pipeline.address_headers import ADDRESS_SYNONYMS, NEAR_MISS_HEADERS

#: The fields a column can map to (the file door's field names).
CANONICAL_FIELDS: tuple[str, ...] = FILE_FIELDS

#: Headers (as written by people and export tools) per canonical field, "|"-separated; the
#: field name itself always matches too. Outlook, Google Contacts and Excel exports in English,
#: German, French, Spanish and Dutch.
_SYNONYM_TEXT: dict[str, str] = {
    "id": "ID|Client ID|Clientdock ID",
    "trackingId": "Tracking ID|Tracking Number",
    "type": (
        "Type|Client Type|Customer Type|Entity Type|Legal Form|Business Type|Typ|"
        "Kundentyp|Rechtsform|Type de client|Forme juridique|Tipo|Tipo de cliente|Forma jurídica|Klanttype|Soort klant|"
        "Rechtsvorm"
    ),
    "name": (
        "Name|Full Name|Display Name|Client Name|Customer Name|Contact Name|File As|Vollständiger Name|Anzeigename|"
        "Kundenname|Nom complet|Nom du client|Nombre completo|Nombre del cliente|Naam|Volledige naam|Weergavenaam|Klantnaam"
    ),
    "firstName": "First Name|Given Name|Forename|Christian Name|Vorname|Prénom|Nombre|Nombre de pila|Voornaam",
    "middleName": (
        "Middle Name|Additional Name|Middle Initial|Weitere Vornamen|Zweiter Vorname|Deuxième prénom|Autre prénom|"
        "Segundo nombre|Middelste naam|Tweede voornaam|Tussenvoegsel"
    ),
    "lastName": "Last Name|Surname|Family Name|Nachname|Familienname|Nom|Nom de famille|Apellido|Apellidos|Achternaam",
    "title": "Title|Name Prefix|Prefix|Salutation|Honorific|Titel|Anrede|Titre|Civilité|Título|Tratamiento|Aanhef",
    "email": (
        "Email|E-mail|Mail|Email Address|E-mail Address|E-mail 1 - Value|Primary Email|E-Mail-Adresse|Mailadresse|"
        "Courriel|Adresse e-mail|Adresse de messagerie|Adresse électronique|Adresse mail|Correo|Correo electrónico|"
        "Dirección de correo electrónico|Dirección de correo|E-mailadres"
    ),
    "phone": (
        "Phone|Phone Number|Telephone|Telephone Number|Tel|Business Phone|Work Phone|Primary Phone|Phone 1 - Value|"
        "Telefon|Telefonnummer|Telefon geschäftlich|Telefon (geschäftlich)|Téléphone|Numéro de téléphone|"
        "Téléphone bureau|Téléphone (bureau)|Teléfono|Número de teléfono|Teléfono del trabajo|Telefoon|Telefoonnummer|"
        "Telefoon op werk|Telefoon werk"
    ),
    "mobile": (
        "Mobile|Mobile Phone|Mobile Number|Mobile Phone Number|Cell|Cell Phone|Cellphone|Handy|Handynummer|Mobiltelefon|"
        "Mobilnummer|Mobilfunknummer|Téléphone mobile|Tél. mobile|Portable|Téléphone portable|Móvil|Teléfono móvil|"
        "Celular|Mobiel|Mobiele telefoon|Mobiel nummer|GSM"
    ),
    "company": (
        "Company|Company Name|Organization|Organisation|Organization Name|Organisation Name|Organization 1 - Name|"
        "Business Name|Trading Name|Legal Name|Entity Name|Employer|Firma|Firmenname|Firmenbezeichnung|Unternehmen|"
        "Société|Entreprise|Raison sociale|Dénomination sociale|Nom de l'entreprise|Nom de la société|Empresa|Compañía|"
        "Organización|Razón social|Nombre de la empresa|Bedrijf|Bedrijfsnaam|Handelsnaam|Organisatie"
    ),
    "companyNumber": (
        "Company Number|Company No|Company Registration Number|Registration Number|Company Reg No|"
        "Companies House Number|CRN|Numéro SIREN|SIREN"
    ),
    "taxNumber": (
        "Tax Number|Tax ID|Tax No|VAT|VAT Number|VAT ID|VAT Reg No|UTR|Steuernummer|USt-IdNr|USt-ID|Umsatzsteuer-ID|"
        "Numéro de TVA|TVA|Numéro fiscal|NIF|CIF|Número de IVA|BTW-nummer|BTW|Fiscaal nummer"
    ),
    "cocNumber": "CoC Number|CoC|Chamber of Commerce|Chamber of Commerce Number|KvK|KvK-nummer|Handelsregisternummer",
    "debtorId": "Debtor ID|Debtor Number|Debtor No|Debitorennummer|Numéro de débiteur|Número de deudor|Debiteurnummer",
    "dateOfBirth": (
        "Date of Birth|DOB|Birthday|Birth Date|Birthdate|Geburtsdatum|Geburtstag|Date de naissance|Anniversaire|"
        "Fecha de nacimiento|Cumpleaños|Geboortedatum|Verjaardag"
    ),
    "gender": "Gender|Sex|Geschlecht|Sexe|Genre|Sexo|Género|Geslacht",
    "primaryLanguage": "Language|Primary Language|Preferred Language|Sprache|Langue|Idioma|Taal|Voorkeurstaal",
    "active": "Active|Is Active|Enabled|Aktiv|Actif|Activo|Actief",
    "tags": "Tags|Tag|Labels|Label|Categories|Kategorien|Schlagwörter|Étiquettes|Catégories|Etiquetas|Categorías|Categorieën",
    "clientGroupId": "Client Group|Client Group ID|Group ID|Kundengruppe|Groupe de clients|Grupo de clientes|Klantgroep",
    "note": (
        "Note|Notes|Comment|Comments|Remarks|Notiz|Notizen|Bemerkung|Bemerkungen|Remarque|Remarques|Commentaire|"
        "Commentaires|Nota|Notas|Comentario|Comentarios|Notitie|Notities|Opmerking|Opmerkingen"
    ),
    "project": "Project|Projekt|Projet|Proyecto",
    "desk": "Desk",
    "created": (
        "Created|Created At|Created On|Creation Date|Date Created|Erstellt|Erstellt am|Erstelldatum|Créé le|"
        "Date de création|Creado|Fecha de creación|Fecha de alta|Aangemaakt|Aangemaakt op|Aanmaakdatum"
    ),
}

#: The synonym table as tuples, the address parts' (``pipeline.address_headers``) included.
SYNONYMS: dict[str, tuple[str, ...]] = {**{name: tuple(text.split("|")) for name, text in _SYNONYM_TEXT.items()}, **ADDRESS_SYNONYMS}

#: A near miss must score at least this (rapidfuzz ``ratio``, 0-100) to be matched.
FUZZY_CUTOFF = 88.0
#: Normalised headers shorter than this are never fuzzy-matched (too little to go on).
FUZZY_MIN_LENGTH = 6


def normalize_header(text: str) -> str:
    """Accents dropped, case folded, only letters and digits kept: "E-Mail-Adresse" -> "emailadresse"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in bare.casefold() if ch.isalnum())


def _build_lookup() -> dict[str, str]:
    """Normalised header -> field; a header claimed by two fields is a bug in the table."""
    lookup: dict[str, str] = {}
    for name in CANONICAL_FIELDS:
        for header in (name, *SYNONYMS.get(name, ())):
            key = normalize_header(header)
            if lookup.setdefault(key, name) != name:
                raise RuntimeError(f"header {header!r} is a synonym of {lookup[key]} and {name}")
    return lookup


_LOOKUP = _build_lookup()
#: The keys a near miss may match: every field's, but of the address parts only the un-prefixed.
_NEAR_MISS_ADDRESS_KEYS = {normalize_header(header) for header in NEAR_MISS_HEADERS}
_KEYS = [key for key, name in _LOOKUP.items() if name not in ADDRESS_FILE_FIELDS or key in _NEAR_MISS_ADDRESS_KEYS]
_FIELD_BY_KEY = {normalize_header(name): name for name in CANONICAL_FIELDS}


@dataclass
class HeaderMatch:
    """The outcome of matching a header row.

    ``fields[i]`` is the canonical field of column ``i`` (None: not imported). ``unknown`` lists
    the headers not imported, in column order ("" for a nameless column), duplicates included.
    ``mapping`` is header -> field for the columns that are imported. ``duplicates`` is
    header -> field for columns that matched a field an earlier column already took, and
    ``guessed`` the subset of ``mapping`` matched as near misses (worth a warning).
    """

    fields: list[str | None]
    unknown: list[str]
    mapping: dict[str, str]
    duplicates: dict[str, str] = field(default_factory=dict)
    guessed: dict[str, str] = field(default_factory=dict)

    def column_of(self, name: str) -> int | None:
        """The index of the column that fills field ``name``, if any."""
        try:
            return self.fields.index(name)
        except ValueError:
            return None

    def values(self, cells: list[str]) -> dict[str, str]:
        """A record's cells keyed by field (missing cells of a short row are "")."""
        return {name: cells[index] if index < len(cells) else "" for index, name in enumerate(self.fields) if name is not None}


def match_headers(header: list[str], explicit: Mapping[str, str] | None = None) -> HeaderMatch:
    """Map each column of ``header`` to a canonical field (see the module docstring).

    ``explicit`` maps header text to a field name; naming a field that does not exist, a column
    that is not in the header, or one field twice raises ``ValidationFailed`` on ``mapping``.
    """
    fields: list[str | None] = [None] * len(header)
    handled = _apply_explicit(header, explicit or {}, fields)
    duplicates: dict[str, str] = {}
    guessed: dict[str, str] = {}
    auto: set[int] = set()
    for index, text in enumerate(header):
        if index in handled:
            continue
        name, is_guess = _auto_field(text)
        if name is None:
            continue
        if name in fields:
            duplicates.setdefault(text, name)
            continue
        fields[index] = name
        auto.add(index)
        if is_guess:
            guessed[text] = name
    _promote_mobile(fields, auto)
    return HeaderMatch(
        fields=fields,
        unknown=[text for text, name in zip(header, fields, strict=True) if name is None],
        mapping={text: name for text, name in zip(header, fields, strict=True) if name is not None},
        duplicates=duplicates,
        guessed=guessed,
    )


def _auto_field(text: str) -> tuple[str | None, bool]:
    """The field a header names (exact synonym, else a near miss), and whether it was a guess."""
    key = normalize_header(text)
    if not key:
        return None, False
    exact = _LOOKUP.get(key)
    if exact is not None:
        return exact, False
    return _fuzzy_field(key), True


#: Headers of the tools firms export from that hold something we do not import, and that are one
#: letter away from a field's synonym ("FaxNumber" ~ "TaxNumber"): never matched as a near miss.
NOT_A_FIELD: frozenset[str] = frozenset(
    normalize_header(text)
    for text in (
        "Fax", "Fax Number", "Faxnummer", "Business Fax", "Home Fax", "Other Fax", "Main Contact Fax", "Numéro de fax",
        "Número de fax", "Faxnummer zakelijk",
    )
)  # fmt: skip


def _fuzzy_field(key: str) -> str | None:
    """A near miss of one synonym ("frstname"), only when every close candidate agrees."""
    if len(key) < FUZZY_MIN_LENGTH or key in NOT_A_FIELD or key.endswith("fax"):
        return None
    candidates = process.extract(key, _KEYS, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=5)
    names = {_LOOKUP[candidate] for candidate, _score, _index in candidates}
    return names.pop() if len(names) == 1 else None


def _promote_mobile(fields: list[str | None], auto: set[int]) -> None:
    """A lone, automatically matched mobile column fills ``phone`` when no column does."""
    if "phone" in fields or "mobile" not in fields:
        return
    index = fields.index("mobile")
    if index in auto:
        fields[index] = "phone"


def _apply_explicit(header: list[str], explicit: Mapping[str, str], fields: list[str | None]) -> set[int]:
    """Fill ``fields`` from the explicit mapping; returns the columns it decided (ignored too)."""
    errors: list[FieldError] = []
    handled: set[int] = set()
    for text, wanted in explicit.items():
        index = _column_index(header, text)
        name = _canonical_field(wanted)
        problem = _explicit_problem(text, wanted, index, name, fields, handled)
        if problem is not None or index is None:
            errors.append(FieldError("mapping", problem or f"column {text!r} is not in the header"))
            continue
        handled.add(index)
        fields[index] = name or None
    if errors:
        detail = "; ".join(error.message for error in errors)
        raise ValidationFailed(f"mapping: {detail}", errors)
    return handled


def _explicit_problem(
    text: str,
    wanted: str,
    index: int | None,
    name: str | None,
    fields: list[str | None],
    handled: set[int],
) -> str | None:
    if name is None:
        known = ", ".join(known_name for known_name in CANONICAL_FIELDS if known_name not in ADDRESS_FILE_FIELDS)
        addresses = f"addresses.<type>.<part> (types {', '.join(ADDRESS_FILE_TYPES)}; parts {', '.join(ADDRESS_PARTS)})"
        return f"{wanted!r} (for column {text!r}) is not a client field; fields are: {known} and {addresses}"
    if index is None:
        return f"column {text!r} is not in the file's header"
    if index in handled:
        return f"column {text!r} is mapped twice"
    if name and name in fields:
        return f"field {name!r} is mapped from two columns (the second is {text!r})"
    return None


def _column_index(header: list[str], text: str) -> int | None:
    """The first column headed exactly ``text``, else the first that normalises the same."""
    if text in header:
        return header.index(text)
    key = normalize_header(text)
    for index, candidate in enumerate(header):
        if key and normalize_header(candidate) == key:
            return index
    return None


def _canonical_field(wanted: str) -> str | None:
    """The canonical field a mapping value names ("first_name" = firstName); "" = ignore."""
    if not wanted.strip():
        return ""
    if wanted in CANONICAL_FIELDS:
        return wanted
    return _FIELD_BY_KEY.get(normalize_header(wanted))
