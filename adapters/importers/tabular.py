"""CSV and XLSX files as rows of cells: encodings, delimiters and the header row guessed."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from adapters.importers.cards import Draft
from adapters.importers.columns import (
    Column,
    MappingError,
    header_score,
    map_columns,
    missing_mapped,
)

HEADER_SEARCH_ROWS = 10  # the header is within the first rows (titles, blank lines above)
DELIMITERS = ";,\t|"
MAX_ROWS = 1_000_000
csv.field_size_limit(1_000_000)


class FileFormatError(ValueError):
    """The file as a whole cannot be read (empty, not a table, no header row)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One contact-to-be from a file: where it starts, and its fields or why it failed."""

    line: int
    draft: Draft | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """What a table file holds: its columns as understood, and a record per data row."""

    header_line: int
    columns: list[Column]
    records: list[Record]
    encoding: str = ""
    delimiter: str = ""


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding of an export: UTF-8 (with or without BOM), UTF-16, else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # cp1252 leaves five bytes undefined; latin-1 reads them, so decoding never fails.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines most consistently (German Excel: ";")."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    best, best_score = ";", -1
    for delimiter in DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=delimiter))) for line in lines]
        if not counts or max(counts) < 2:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) * 100 + common
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(data: bytes, mapping: dict[str, str] | None = None) -> Table:
    """A CSV export as a table."""
    text, encoding = decode(data)
    text = text.replace("\x00", "")  # the csv module refuses NUL; cells never need it
    if not text.strip():
        raise FileFormatError("the file is empty")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = _table(_numbered(reader), mapping)
    return Table(table.header_line, table.columns, table.records, encoding, delimiter)


def read_xlsx(data: bytes, mapping: dict[str, str] | None = None) -> Table:
    """The first worksheet of an Excel workbook as a table."""
    import openpyxl  # imported here: only imports of .xlsx need it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise FileFormatError(f"not a readable .xlsx workbook: {err}") from err
    try:
        sheet = book.worksheets[0]
        rows = (
            (n, ["" if v is None else _cell_text(v) for v in row])
            for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return _table(rows, mapping)
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number or postcode typed as a number
    return str(value)


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line each starts on (a quoted cell may span lines)."""
    line = 1
    try:
        for row in reader:
            yield line, row
            line = reader.line_num + 1  # type: ignore[attr-defined]
    except csv.Error as err:
        raise FileFormatError(f"line {line}: unreadable CSV ({err})") from err


def _table(rows: Iterator[tuple[int, list[str]]], mapping: dict[str, str] | None) -> Table:
    head: list[tuple[int, list[str]]] = []
    for numbered in rows:
        head.append(numbered)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not any(any(c.strip() for c in cells) for _, cells in head):
        raise FileFormatError("the file has no rows")
    scored = [(header_score(cells, mapping), -i) for i, (_, cells) in enumerate(head)]
    score, minus_index = max(scored)
    if score < 2:
        raise FileFormatError(
            "no header row found (expected columns like Name, Vorname, Firma, E-Mail, "
            "Telefon); name the columns with --mapping COLUMN=FIELD"
        )
    header_line, headers = head[-minus_index]
    headers = [h.strip() for h in headers]
    if mapping and (missing := missing_mapped(headers, mapping)):
        raise MappingError(f"mapped columns not in the header row: {', '.join(missing)}")
    columns = map_columns(headers, mapping)
    records: list[Record] = []
    for line, cells in [*head[-minus_index + 1 :], *rows]:
        if len(records) >= MAX_ROWS:
            raise FileFormatError(f"more than {MAX_ROWS} rows; split the file")
        if not any(c.strip() for c in cells):
            continue
        records.append(Record(line, Draft.of(columns, cells)))
    return Table(header_line, columns, records)
