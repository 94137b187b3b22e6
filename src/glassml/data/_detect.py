"""Detect the layout of a delimited text file: encoding, separator and number format."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from glassml.errors import UserInputError

SUPPORTED_FORMATS = "supported formats are .csv, .tsv and .txt (comma, semicolon, tab or pipe separated) and .parquet"
SEPARATORS = (",", ";", "\t", "|")
SAMPLE_BYTES = 256 * 1024
CHUNK_BYTES = 1024 * 1024

# Bytes 0x80-0x9f are printable characters in cp1252 except these five, which cp1252 leaves undefined.
CP1252_UNDEFINED = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})

# Missing-value tokens for every CSV column. pandas' default list also has tokens such as "n/a" and "#N/A".
# This list is written into the script, so the script does not depend on the default of a pandas version.
MISSING_TOKENS = ["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "?", "-", "unknown", "Unknown"]


@dataclass
class NumberFormat:
    """The decimal mark and thousands separator of the numbers in a file."""

    decimal: str
    thousands: str | None

    def number_pattern(self) -> re.Pattern[str]:
        """Return a pattern that matches a whole number written in this format, infinities included."""
        decimal = re.escape(self.decimal)
        digits = r"\d+"
        if self.thousands is not None:
            digits = rf"(?:\d{{1,3}}(?:{re.escape(self.thousands)}\d{{3}})+|\d+)"
        mantissa = rf"(?:{digits}(?:{decimal}\d*)?|{decimal}\d+)"
        return re.compile(rf"[+-]?(?:{mantissa}(?:[eE][+-]?\d+)?|inf|infinity)", re.IGNORECASE)


def detect_encoding(path: Path) -> tuple[str, str]:
    """Return the Python codec that decodes the file and a sentence saying why it was chosen.

    UTF-8 wins when the whole file is valid UTF-8. Otherwise bytes 0x80-0x9f decide: they are printable
    characters (such as the euro sign at 0x80) in Windows-1252 and control characters in Latin-1.
    """
    c1_bytes: set[int] = set()
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid_utf8 = True
    with path.open("rb") as file:
        head = file.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", "utf-8 with a byte order mark"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", "utf-16 (byte order mark)"
        file.seek(0)
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            if b"\x00" in chunk:
                raise UserInputError(f"cannot read {path}: it contains binary data (NUL bytes); {SUPPORTED_FORMATS}")
            if valid_utf8:
                valid_utf8 = _decodes(decoder, chunk, final=False)
            c1_bytes.update(byte for byte in set(chunk) if 0x80 <= byte <= 0x9F)
    if valid_utf8 and _decodes(decoder, b"", final=True):
        return "utf-8", "utf-8 (the whole file is valid UTF-8)"

    undefined = sorted(c1_bytes & CP1252_UNDEFINED)
    if undefined:
        listed = ", ".join(f"0x{byte:02x}" for byte in undefined)
        return "latin-1", f"latin-1 (not valid UTF-8, and bytes {listed} are undefined in cp1252)"
    if c1_bytes:
        example = bytes([min(c1_bytes)]).decode("cp1252")
        return "cp1252", f"cp1252 (not valid UTF-8, and bytes 0x80-0x9f such as {example!r} are present)"
    return "latin-1", "latin-1 (not valid UTF-8; no bytes 0x80-0x9f, so cp1252 would decode it the same way)"


def _decodes(decoder: codecs.IncrementalDecoder, chunk: bytes, *, final: bool) -> bool:
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError:
        return False
    return True


def read_sample(path: Path, encoding: str) -> str:
    """Return the first lines of the file as text, cut at the last complete line."""
    with path.open("rb") as file:
        raw = file.read(SAMPLE_BYTES + 1)
    truncated = len(raw) > SAMPLE_BYTES
    text = raw[:SAMPLE_BYTES].decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if truncated and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def detect_separator(sample: str, preferred: str = ",") -> tuple[str, str]:
    """Return the field separator of the sample and a sentence saying why it was chosen.

    A separator is consistent when it splits the header into at least two fields and every sampled
    row into as many fields as the header. csv.Sniffer's guess is taken when it is consistent;
    otherwise the consistent separator giving the most fields wins.
    """
    field_counts = {separator: _field_counts(sample, separator) for separator in SEPARATORS}
    consistent = [
        separator
        for separator, counts in field_counts.items()
        if counts and counts[0] > 1 and all(count == counts[0] for count in counts)
    ]
    sniffed = _sniff(sample)
    if sniffed in consistent:
        chosen = sniffed
    elif consistent:
        order = {separator: index for index, separator in enumerate((preferred, *SEPARATORS))}
        chosen = max(consistent, key=lambda separator: (field_counts[separator][0], -order[separator]))
    else:
        return _fallback_separator(field_counts, preferred)
    rows = len(field_counts[chosen]) - 1
    return (
        chosen,
        f"{chosen!r} (splits the header and the {rows} sampled rows into {field_counts[chosen][0]} fields each)",
    )


def _fallback_separator(field_counts: dict[str, list[int]], preferred: str) -> tuple[str, str]:
    splitting = {separator: counts for separator, counts in field_counts.items() if counts and max(counts) > 1}
    if not splitting:
        return preferred, f"{preferred!r} (no separator found: the file has a single column)"

    def share_like_header(separator: str) -> float:
        counts = splitting[separator]
        return sum(count == counts[0] for count in counts) / len(counts)

    chosen = max(splitting, key=share_like_header)
    share = share_like_header(chosen)
    return (
        chosen,
        f"{chosen!r} (the most consistent, but only {share:.0%} of sampled rows have as many fields as the header)",
    )


def _field_counts(sample: str, separator: str) -> list[int]:
    rows = [row for row in csv.reader(io.StringIO(sample), delimiter=separator) if row]
    return [len(row) for row in rows]


def _sniff(sample: str) -> str | None:
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        return None


def read_header(sample: str, separator: str) -> list[str]:
    """Return the header row of the sample as the csv module splits it."""
    for row in csv.reader(io.StringIO(sample), delimiter=separator):
        if row:
            return row
    return []


def detect_number_format(columns: Iterable[set[str]], separator: str) -> tuple[NumberFormat, str]:
    """Choose the decimal mark and thousands separator under which the most columns are all numbers.

    `columns` contains each column's distinct non-missing values, stripped of whitespace. Ties go to the
    plainer format: no thousands separator, and a decimal point unless the file is not comma-separated.
    """
    # NOTE: only "." and "," are tried as thousands separators. Spaces ("1 234,5") and apostrophes
    # ("1'234.5") leave such columns as text.
    candidates = [NumberFormat(".", None), NumberFormat(".", ","), NumberFormat(",", None), NumberFormat(",", ".")]
    if separator != ",":
        candidates = [candidates[0], candidates[2], candidates[3], candidates[1]]
    patterns = [candidate.number_pattern() for candidate in candidates]
    scores = [0] * len(candidates)
    for values in columns:
        if not values or not any(character.isdigit() for value in values for character in value):
            continue
        for index, pattern in enumerate(patterns):
            if all(pattern.fullmatch(value) for value in values):
                scores[index] += 1

    best = max(range(len(candidates)), key=lambda index: (scores[index], -index))
    chosen = candidates[best]
    if scores[best] == 0:
        return candidates[0], "'.' decimal point, no thousands separator (no numeric columns found)"
    thousands = "no thousands separator" if chosen.thousands is None else f"{chosen.thousands!r} thousands separator"
    columns = "1 column is" if scores[best] == 1 else f"{scores[best]} columns are"
    reason = f"{chosen.decimal!r} decimal mark, {thousands} ({columns} all numbers in this format)"
    return chosen, reason
