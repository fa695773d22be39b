"""Decide what an uploaded file really is, by its content.

S3.5/S3.6 accept CSV (and, as a convenience, xlsx/xls/ods spreadsheets) and refuse everything
else with 415: executables, scripts, archives, macro-enabled or encrypted workbooks, documents,
images and any other binary content. A file name can lie, so the bytes decide; the extension is
only a hint (it names what we expected in messages, and an OOXML package *named* ``.xlsm`` is
refused as macro-enabled even when it carries no macro part).

Zip and OLE2 containers can only be judged with the whole file (the zip directory sits at the end,
an OLE directory anywhere): :func:`detect_kind` reads them from ``path`` when given, else from
``head``, which must then hold the whole content. :func:`detect_file_kind` does the right thing
for a file on disk.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

import puremagic
import python_calamine

from clientdock.errors import PayloadTooLarge, UnsupportedMediaType

Kind = Literal["csv", "xlsx", "xls", "ods"]

#: How many leading bytes the checks look at (and what callers should pass as ``head``).
HEAD_SIZE = 64 * 1024

#: A workbook whose members unpack to more than this is refused (zip bombs).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024

#: Share of control bytes above which "text" is taken to be binary content.
MAX_CONTROL_RATIO = 0.10

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

# Leading bytes of formats that are never a table we accept: (signature, what it is).
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "an ELF executable"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O universal binary or Java class file"),
    (b"\x00asm", "a WebAssembly module"),
    (b"#!", "a script (shebang line)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"(\xb5/\xfd", "a zstd archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"{\\rtf", "an RTF document"),
)

# Text that starts like markup or a document format is not a CSV table.
_MARKUP = re.compile(rb"\s*<(\?xml|!doctype|html|svg|script)\b", re.IGNORECASE)
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")

_MACRO_EXTENSIONS = frozenset({"xlsm", "xlsb", "xltm", "xlam", "xla", "xll"})

# Content types of OOXML parts that make a package macro-enabled or otherwise unsafe.
_UNSAFE_CONTENT_TYPES = (
    "macroenabled",
    "vbaproject",
    "macrosheet",
    "activex",
    "sheet.binary",
)
_WORKBOOK_CONTENT_TYPES = (
    "spreadsheetml.sheet.main+xml",
    "spreadsheetml.template.main+xml",
)


def detect_file_kind(path: Path, filename: str | None = None) -> Kind:
    """The kind of the file at ``path``; see :func:`detect_kind`."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_SIZE)
    return detect_kind(head, filename, path=path)


def detect_kind(head: bytes, filename: str | None = None, *, path: Path | None = None) -> Kind:
    """Classify an upload as csv/xlsx/xls/ods by content, or raise ``UnsupportedMediaType``.

    ``head`` is the first :data:`HEAD_SIZE` bytes (or more). ``filename`` is only a hint.
    ``path`` lets zip/OLE containers be inspected in full; without it ``head`` must be the
    whole file for them.
    """
    if head.startswith(OLE_SIGNATURE):
        return _check_ole(head, path)
    if head.startswith(ZIP_SIGNATURES):
        return _check_zip(head, path, filename)
    _refuse_known_binary(head)
    _check_text(head)
    return "csv"


def _refuse(found: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"The file is {found}; only CSV files (or xlsx/xls/ods spreadsheets without macros) can be imported.")


def _refuse_known_binary(head: bytes) -> None:
    """Refuse files whose leading bytes name a format that is never a table."""
    for signature, found in _REFUSED_SIGNATURES:
        if head.startswith(signature):
            raise _refuse(found)
    if head.startswith(b"MZ") and b"\x00" in head[:64]:
        # A DOS/PE header is full of NULs; a CSV whose first cell starts "MZ" is not.
        raise _refuse("a Windows executable (MZ/PE)")
    if _BZIP2.match(head):
        raise _refuse("a bzip2 archive")
    if len(head) > 262 and head[257:262] == b"ustar":
        raise _refuse("a tar archive")
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        raise _refuse(f"a RIFF {head[8:12].decode().strip()} file")
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if _MARKUP.match(body):
        raise _refuse("an XML/HTML document")


# --- text ---------------------------------------------------------------------------------


def text_bom(head: bytes) -> tuple[str, int] | None:
    """The codec and BOM length when ``head`` starts with a Unicode byte order mark."""
    boms = (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    )
    for bom, codec in boms:
        if head.startswith(bom):
            return codec, len(bom)
    return None


def utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when ``head`` looks like BOM-less UTF-16 text, else None.

    UTF-16 text legitimately holds NUL bytes: ASCII characters (delimiters, digits, line
    breaks) have a zero high byte, so NULs pile up on the odd (LE) or even (BE) positions.
    A binary file scatters its NULs instead.
    """
    sample = head[: min(len(head), 4096) // 2 * 2]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    pairs = len(sample) // 2
    for nuls, other, codec in ((odd_nuls, even_nuls, "utf-16-le"), (even_nuls, odd_nuls, "utf-16-be")):
        if nuls >= max(2, pairs * 0.1) and other <= nuls * 0.05 and _decodes(sample, codec):
            return codec
    return None


def _decodes(sample: bytes, codec: str) -> bool:
    """Strictly decodable, a character cut at the end of the sample forgiven."""
    try:
        codecs.getincrementaldecoder(codec)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decoded_head(head: bytes) -> str | None:
    """The head as text when it is UTF-16/32 (which need decoding before any check), else None."""
    bom = text_bom(head)
    codec = bom[0] if bom and bom[0] != "utf-8-sig" else utf16_without_bom(head)
    if codec is None:
        return None
    unit = 4 if codec.startswith("utf-32") else 2
    whole = head[: len(head) // unit * unit]
    return whole.decode(codec, errors="replace")


def _check_text(head: bytes) -> None:
    """Refuse content with NULs or too many control characters: it is not text."""
    text = _decoded_head(head)
    if text is not None:
        _check_text_chars(text)
        return
    if b"\x00" in head:
        raise _refuse(f"binary, not text (it holds NUL bytes; {_magic_name(head)})")
    controls = sum(head.count(bytes([c])) for c in _CONTROL_CODES)
    if head and controls / len(head) > MAX_CONTROL_RATIO:
        raise _refuse(f"binary, not text ({_magic_name(head)})")


_CONTROL_CODES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}


def _check_text_chars(text: str) -> None:
    if "\x00" in text:
        raise _refuse("binary, not text (it holds NUL characters)")
    controls = sum(1 for ch in text if ord(ch) in _CONTROL_CODES)
    if text and controls / len(text) > MAX_CONTROL_RATIO:
        raise _refuse("binary, not text (it is full of control characters)")


def _magic_name(head: bytes) -> str:
    """A human name for unrecognised binary content (puremagic's best guess, if any)."""
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return "unrecognised format"
    if not matches:
        return "unrecognised format"
    best = matches[0]
    return best.name or best.extension or "unrecognised format"


# --- zip packages (xlsx, ods) -------------------------------------------------------------


def _open_zip(head: bytes, path: Path | None) -> zipfile.ZipFile:
    source: Path | IO[bytes] = path if path is not None else io.BytesIO(head)
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse("a damaged or truncated zip archive") from exc


def _check_zip(head: bytes, path: Path | None, filename: str | None) -> Kind:
    with _open_zip(head, path) as archive:
        infos = archive.infolist()
        _check_zip_safety(infos)
        names = {info.filename for info in infos}
        if "mimetype" in names and _read_member(archive, "mimetype", 256).strip() == ODS_MIMETYPE:
            _check_ods(archive, names)
            return "ods"
        if "[Content_Types].xml" in names:
            return _check_ooxml(archive, names, filename)
        listed = ", ".join(sorted(names)[:5]) or "nothing"
        raise _refuse(f"a zip archive (holding {listed}), not a spreadsheet")


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with archive.open(name) as member:
        return member.read(limit)


def _check_zip_safety(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse encrypted members and archives that unpack to absurd sizes (zip bombs)."""
    if any(info.flag_bits & 0x1 for info in infos):
        raise _refuse("an encrypted (password-protected) zip package")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        raise PayloadTooLarge(
            f"The workbook unpacks to {unpacked // (1024 * 1024)} MiB, more than the {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB allowed."
        )


def _check_ods(archive: zipfile.ZipFile, names: set[str]) -> None:
    """ODS with StarBasic/script macros or encrypted content is refused."""
    if any(name.startswith(("Basic/", "Scripts/")) for name in names):
        raise _refuse("an OpenDocument spreadsheet with macros")
    if "META-INF/manifest.xml" in names:
        manifest = _read_member(archive, "META-INF/manifest.xml", 4 * 1024 * 1024)
        if b"encryption-data" in manifest:
            raise _refuse("an encrypted (password-protected) OpenDocument spreadsheet")


def _check_ooxml(archive: zipfile.ZipFile, names: set[str], filename: str | None) -> Kind:
    """An OOXML package is accepted only as a plain, macro-free xlsx workbook."""
    content_types = _read_member(archive, "[Content_Types].xml", 4 * 1024 * 1024)
    lowered = content_types.decode("utf-8", errors="replace").lower()
    if any(marker in lowered for marker in _UNSAFE_CONTENT_TYPES) or _has_macro_parts(names):
        raise _refuse("a macro-enabled workbook (xlsm/xlsb, VBA or Excel 4.0 macros, ActiveX)")
    if _extension(filename) in _MACRO_EXTENSIONS:
        raise _refuse(f"a macro-enabled workbook type (.{_extension(filename)})")
    if not any(marker in lowered for marker in _WORKBOOK_CONTENT_TYPES):
        found = _ooxml_name(lowered)
        raise _refuse(f"{found}, not a spreadsheet")
    return "xlsx"


def _has_macro_parts(names: set[str]) -> bool:
    for name in names:
        lowered = name.lower()
        if lowered.endswith(("vbaproject.bin", "vbadata.xml", "workbook.bin")):
            return True
        if lowered.startswith(("xl/macrosheets/", "xl/activex/", "xl/dialogsheets/")):
            return True
        if lowered.startswith("xl/embeddings/") and lowered.endswith((".bin", ".exe")):
            return True
    return False


def _ooxml_name(content_types: str) -> str:
    if "wordprocessingml" in content_types:
        return "a Word document"
    if "presentationml" in content_types:
        return "a PowerPoint presentation"
    return "an Office Open XML package"


def _extension(filename: str | None) -> str:
    if not filename or "." not in filename:
        return ""
    return filename.rsplit(".", 1)[1].lower()


# --- OLE2 compound files (legacy .xls) ----------------------------------------------------

# Directory entry names (UTF-16LE) that tell what an OLE compound file holds.
_OLE_MARKERS: tuple[tuple[bytes, str], ...] = (
    ("EncryptedPackage".encode("utf-16-le"), "a password-protected (encrypted) workbook"),
    ("_VBA_PROJECT_CUR".encode("utf-16-le"), "a workbook with VBA macros"),
    ("WordDocument".encode("utf-16-le"), "a Word document"),
    ("PowerPoint Document".encode("utf-16-le"), "a PowerPoint presentation"),
)


def _iter_chunks(head: bytes, path: Path | None, size: int = 1024 * 1024) -> Iterator[bytes]:
    """The whole content in overlapping chunks, so a marker on a boundary is still found."""
    if path is None:
        yield head
        return
    overlap = 64
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(size):
            yield tail + chunk
            tail = chunk[-overlap:]


def _check_ole(head: bytes, path: Path | None) -> Kind:
    """Legacy .xls: accepted when calamine can read it and it has no macros or encryption."""
    for chunk in _iter_chunks(head, path):
        for marker, found in _OLE_MARKERS:
            if marker in chunk:
                raise _refuse(found)
    metadata = _ole_sheets(head, path)
    if any(sheet.typ in _MACRO_SHEET_TYPES for sheet in metadata):
        raise _refuse("a workbook with Excel 4.0 macro sheets or VBA")
    return "xls"


_MACRO_SHEET_TYPES = (python_calamine.SheetTypeEnum.MacroSheet, python_calamine.SheetTypeEnum.Vba)


def _ole_sheets(head: bytes, path: Path | None) -> list[python_calamine.SheetMetadata]:
    """Open the workbook with calamine to prove it is a readable, unencrypted .xls."""
    try:
        if path is not None:
            workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        else:
            workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(head))
        with workbook:
            return list(workbook.sheets_metadata)
    except python_calamine.PasswordError as exc:
        raise _refuse("a password-protected (encrypted) workbook") from exc
    except BaseException as exc:  # calamine panics (BaseException) on damaged files
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        raise _refuse("an OLE2 compound file that is not a readable Excel workbook") from exc
