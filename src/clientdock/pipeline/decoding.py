"""Choose the text encoding of an uploaded CSV, strictly: a file is read in one encoding that
decodes every byte of it, or refused before anything is read into records.

The order (issue 14, "text as the firm wrote it"):

1. an explicit ``encoding`` wins and is honoured strictly (a BOM of the same Unicode family is
   still stripped);
2. a byte order mark: UTF-8, UTF-16 or UTF-32;
3. BOM-less UTF-16 (NULs on every other byte);
4. UTF-8, when the whole file is valid UTF-8 (streamed, so a bad byte deep in the file counts);
5. otherwise a legacy code page (cp1252 for Western text, else charset-normalizer's guess) -
   but only when the file is not *mostly* UTF-8: a file whose lines are partly valid UTF-8 text
   and partly not (one spreadsheet pasted into another) has no single encoding. Reading it as a
   code page would store the UTF-8 lines double-decoded ("MÃ¼ller"), and reading it as UTF-8
   with replacement would store U+FFFD. It is refused with a 400 naming its first non-UTF-8
   lines and the ``encoding`` field (:func:`mixed_encoding`).

When the chosen encoding still fails on some byte while the records are read,
:func:`undecodable` names the exact lines (the text reader decodes ahead in chunks, so its own
position is only near the fault).

Lines are physical lines as in :mod:`clientdock.pipeline.parse`: CR, LF and CRLF each end one.
"""

from __future__ import annotations

import codecs
import functools
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer

from clientdock.errors import FieldError, ValidationFailed
from clientdock.pipeline.filekind import HEAD_SIZE, text_bom, utf16_without_bom

#: A refusal names at most this many lines.
LINES_NAMED = 5
#: The form field (and CLI option) that sets the encoding.
ENCODING_FIELD = "encoding"

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Encoding:
    """How a CSV is decoded: ``codec`` is what Python decodes with (utf-8-sig and utf-16 strip
    their BOM), ``name`` is what is reported ("utf-8", "utf-16le", "cp1252"...), ``bom`` whether
    the file starts with one, ``explicit`` whether the caller chose it."""

    codec: str
    name: str
    bom: bool
    explicit: bool = False


@dataclass(slots=True)
class LineScan:
    """Which lines of a file do not decode: the first few line numbers and how many in all;
    ``utf8_text`` counts lines that are valid UTF-8 and hold non-ASCII text (scans in UTF-8)."""

    bad_lines: list[int] = field(default_factory=list)
    bad_count: int = 0
    snippets: list[str] = field(default_factory=list)
    utf8_text: int = 0


class EncodingRefused(ValidationFailed):
    """A file no single encoding reads wholly. ``problem`` says what is wrong and where, without
    the remedy, so that each door can word its own (the CLI's ``--encoding``, the dialog's
    "save it as UTF-8"); the problem details' ``detail`` names the API's ``encoding`` field."""

    def __init__(self, problem: str, errors: list[FieldError], *, example: str = "utf-8, cp1252 or latin-1") -> None:
        super().__init__(
            f"{problem} Nothing was imported. Save the whole file as UTF-8 (in Excel: Save as > CSV UTF-8) and upload it "
            f"again, or set the encoding field to the one encoding every line is written in (for example {example}).",
            errors,
        )
        self.problem = problem


def choose_encoding(path: Path, head: bytes, explicit: str | None) -> Encoding:
    """The file's encoding, in the order of the module docstring; raises the mixed-file 400."""
    bom = text_bom(head)
    if explicit is not None:
        return _explicit_encoding(explicit, bom, head)
    if bom is not None:
        return Encoding(bom[0], _bom_name(head, bom[0]), True)
    utf16 = utf16_without_bom(head)
    if utf16 is not None:
        return Encoding(utf16, utf16.replace("-le", "le").replace("-be", "be"), False)
    bad_offset = _first_non_utf8(path)
    if bad_offset is None:
        return Encoding("utf-8", "utf-8", False)
    scan = scan_lines(path, "utf-8")
    if scan.utf8_text:
        raise mixed_encoding(scan)
    legacy = _guess_legacy(head, path, bad_offset)
    return Encoding(legacy, codecs.lookup(legacy).name, False)


def mixed_encoding(scan: LineScan) -> EncodingRefused:
    """The 400 for a file that is UTF-8 except for some lines."""
    problem = (
        f"The file is not wholly UTF-8: {_line_list(scan)} {'is' if scan.bad_count == 1 else 'are'} written in another "
        "encoding, while other lines are UTF-8, so reading it in either one would garble names."
    )
    errors = [
        FieldError(ENCODING_FIELD, f"line {line} is not UTF-8 (near '{snippet}'), while other lines of the file are", line)
        for line, snippet in zip(scan.bad_lines, scan.snippets, strict=True)
    ]
    return EncodingRefused(problem, errors, example="cp1252")


def undecodable(path: Path, encoding: Encoding, near_line: int) -> EncodingRefused:
    """The 400 for a file the chosen encoding does not decode wholly, naming its bad lines."""
    scan = scan_lines(path, encoding.codec) if _line_scannable(encoding.codec) else LineScan()
    how = "given" if encoding.explicit else "detected"
    if not scan.bad_lines:  # a codec whose line breaks are not single ASCII bytes (UTF-16/32)
        message = f"the text near line {near_line} cannot be decoded as {encoding.name}"
        problem = f"The file is not valid {encoding.name} (the encoding {how}): the text near line {near_line} cannot be decoded."
        return EncodingRefused(problem, [FieldError(ENCODING_FIELD, message, near_line)])
    problem = f"The file is not valid {encoding.name} (the encoding {how}): {_line_list(scan)} cannot be decoded."
    errors = [
        FieldError(ENCODING_FIELD, f"line {line} cannot be decoded as {encoding.name} (near '{snippet}')", line)
        for line, snippet in zip(scan.bad_lines, scan.snippets, strict=True)
    ]
    return EncodingRefused(problem, errors)


def _line_list(scan: LineScan) -> str:
    """ "line 4", "lines 4, 9 and 12", "lines 4, 9, 12, 15, 20 (31 lines in all)"."""
    numbers = [str(line) for line in scan.bad_lines]
    if len(numbers) == 1 and scan.bad_count == 1:
        return f"line {numbers[0]}"
    listed = ", ".join(numbers[:-1]) + f" and {numbers[-1]}" if scan.bad_count == len(numbers) else ", ".join(numbers)
    more = f" ({scan.bad_count} lines in all)" if scan.bad_count > len(numbers) else ""
    return f"lines {listed}{more}"


# --- line scans -----------------------------------------------------------------------------


def byte_lines(path: Path) -> Iterator[bytes]:
    """The file's physical lines without their line break, streamed in chunks.

    ``bytes.splitlines`` ends a line at CR, LF or CRLF, as the text reader does. Each chunk is
    cut after its last line break; a CR at its very end waits for the next chunk, where it
    may turn out to be the first half of a CRLF.
    """
    carry = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            data = carry + chunk
            end = len(data) - 1 if data.endswith(b"\r") else len(data)
            cut = max(data.rfind(b"\n", 0, end), data.rfind(b"\r", 0, end))
            if cut < 0:
                carry = data
                continue
            yield from data[: cut + 1].splitlines()
            carry = data[cut + 1 :]
    if carry:
        yield from carry.splitlines()


def scan_lines(path: Path, codec: str) -> LineScan:
    """Decode every physical line on its own (``codec`` must keep CR and LF single ASCII bytes)."""
    scan = LineScan()
    name = codecs.lookup(codec).name
    utf8 = name in ("utf-8", "utf-8-sig")
    ascii_is_ascii = name != "utf-7"  # UTF-7 gives "+" runs a meaning of their own
    for number, raw in enumerate(byte_lines(path), start=1):
        if ascii_is_ascii and raw.isascii():
            continue
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            scan.bad_count += 1
            if len(scan.bad_lines) < LINES_NAMED:
                scan.bad_lines.append(number)
                scan.snippets.append(_snippet(raw, exc.start, codec))
            continue
        if utf8 and not text.isascii() and _reads_as_text(text):
            scan.utf8_text += 1
    return scan


def _snippet(raw: bytes, offset: int, codec: str) -> str:
    """A few characters around the byte that fails, the failing ones shown as U+FFFD."""
    piece = raw[max(offset - 12, 0) : offset + 12]
    return piece.decode(codec, errors="replace").strip()


def _reads_as_text(text: str) -> bool:
    """Are the non-ASCII characters of a line letters, marks or usual punctuation and signs?

    A line of a legacy file is valid UTF-8 only by accident, and then mostly spells rare
    symbols or digits (cp1252 "ß€" is the NKo digit U+07C0); real UTF-8 text spells letters.
    """
    return all(ch.isascii() or _textual(ch) for ch in text)


@functools.cache
def _textual(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LMZ" or 0x00A0 <= ord(ch) <= 0x00BF or 0x2010 <= ord(ch) <= 0x20CF


def _line_scannable(codec: str) -> bool:
    """Can the file be cut into lines at its CR/LF bytes before decoding?"""
    try:
        return "\r\n".encode(codec) == b"\r\n"
    except (LookupError, UnicodeError):
        return False


# --- explicit and BOM encodings -------------------------------------------------------------


def _explicit_encoding(explicit: str, bom: tuple[str, int] | None, head: bytes) -> Encoding:
    """The given encoding; a BOM of the same Unicode family is still stripped and reported."""
    name = _text_codec_name(explicit)
    family = _unicode_family(name)
    if bom is not None and family is not None and _unicode_family(bom[0]) == family:
        return Encoding(bom[0], _bom_name(head, bom[0]), True, explicit=True)
    return Encoding(name, name, False, explicit=True)


def _unicode_family(codec: str) -> str | None:
    for family in ("utf-8", "utf-16", "utf-32"):
        if codec.startswith(family):
            return family
    return None


def _text_codec_name(explicit: str) -> str:
    """The canonical codec name, or a 400 naming ``encoding`` if Python has no such text codec."""
    try:
        io.TextIOWrapper(io.BytesIO(b""), encoding=explicit)
        return codecs.lookup(explicit).name
    except LookupError:
        raise ValidationFailed.for_field(ENCODING_FIELD, f"unknown text encoding {explicit!r} (try utf-8, cp1252, latin-1...)") from None


def _bom_name(head: bytes, codec: str) -> str:
    if codec == "utf-8-sig":
        return "utf-8"
    width = codec[-2:]  # "16" or "32"
    little = head.startswith(b"\xff\xfe")
    return f"utf-{width}{'le' if little else 'be'}"


def _first_non_utf8(path: Path) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None; streams the whole file.

    Checking only a sample would let a cp1252 byte deep in the file break the import halfway.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + max(exc.start, 0)
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    return None


# --- legacy code pages ----------------------------------------------------------------------


def _guess_legacy(head: bytes, path: Path, bad_offset: int) -> str:
    """Guess a legacy encoding: cp1252 for Western European text, else charset-normalizer.

    cp1252 is by far the likeliest source of a non-UTF-8 upload (Excel and Outlook "ANSI"
    exports), and on short samples charset-normalizer ranks it alike with cp1250, DOS or Mac
    code pages, or even a CJK codec for a single accented byte. So bytes that read as plausible
    Western text are cp1252; otherwise charset-normalizer's ranking decides, a multi-byte (CJK)
    guess only with real evidence.
    """
    sample = _legacy_sample(head, path, bad_offset)
    if _plausible_western(sample):
        return "cp1252"
    for match in charset_normalizer.from_bytes(sample):
        name = codecs.lookup(match.encoding).name
        if name in ("cp1252", "ascii") or name.startswith("utf"):
            continue  # UTF-8 already failed; UTF-16/32 without NULs or BOM is not plausible
        if _is_single_byte(match.encoding) or _non_ascii_count(sample, match.encoding) >= 4:
            return str(match.encoding)
    return _decodable("cp1252", sample)


# Non-ASCII characters that are normal in Western text; the quotes and signs may touch letters.
_WESTERN_SIGNS = frozenset("€£¥¢§©®°±×÷¡¿«»‹›‘’‚“”„…–—•·™\xa0")
_TOUCHING_OK = frozenset("‘’‚“”„«»‹›–—…°·™®©€£¿¡")
# Icelandic letters: in cp1252 they are what Turkish (cp1254) ğ ı İ ş become.
_RARE_LETTERS = frozenset("ÐðÝýÞþ")


def _plausible_western(sample: bytes) -> bool:
    """Does the sample read as Western European text in cp1252?

    Three tests: its non-ASCII characters are usual letters or signs; a sign glued to a letter
    is rare ("D¹browski" is Polish cp1250, not Western); and most accented letters sit in words
    that also hold ASCII letters ("Zoë", "Köln") - Cyrillic or Greek bytes read as cp1252 give
    whole words of accented letters ("Èâàí").
    """
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    odd = [index for index, ch in enumerate(text) if not ch.isascii()]
    if not odd:
        return True
    unusual = sum(1 for index in odd if text[index] in _RARE_LETTERS or not (text[index].isalpha() or text[index] in _WESTERN_SIGNS))
    glued = sum(1 for index in odd if not text[index].isalpha() and _touches_letter(text, index))
    letters = mixed = 0
    for word in re.findall(r"[^\W\d_]+", text):
        accented = sum(1 for ch in word if not ch.isascii())
        letters += accented
        if accented < len(word):
            mixed += accented
    return unusual <= 0.1 * len(odd) and glued <= 0.05 * len(odd) and mixed >= 0.5 * letters


def _touches_letter(text: str, index: int) -> bool:
    if text[index] in _TOUCHING_OK:
        return False
    before = text[index - 1] if index > 0 else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    return before.isalpha() or after.isalpha()


@functools.cache
def _is_single_byte(encoding: str) -> bool:
    """A single-byte code page gives one character per high byte; a CJK codec merges pairs."""
    return len(bytes(range(0x80, 0x100)).decode(encoding, errors="replace")) == 0x80


def _non_ascii_count(sample: bytes, encoding: str) -> int:
    return sum(1 for ch in sample.decode(encoding, errors="ignore") if not ch.isascii())


def _decodable(codec: str, sample: bytes) -> str:
    """``codec`` if it decodes the sample, else latin-1 (which decodes anything)."""
    try:
        sample.decode(codec)
    except UnicodeDecodeError:
        return "latin-1"
    return codec


def _legacy_sample(head: bytes, path: Path, bad_offset: int) -> bytes:
    """The head plus the stretch around the first non-UTF-8 byte, cut at line ends."""
    window = HEAD_SIZE // 2
    sample = head[:window]
    if bad_offset >= window:
        with path.open("rb") as fh:
            fh.seek(max(bad_offset - 1024, 0))
            sample += b"\n" + fh.read(window)
    cut = sample.rfind(b"\n")
    return sample[: cut + 1] if cut > 0 else sample
