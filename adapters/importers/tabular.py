"""CSV and XLSX files as rows of cells: encodings, delimiters and the header row guessed."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import TYPE_CHECKING

from adapters.importers import remarks
from adapters.importers.cards import Draft
from adapters.importers.columns import (
    NOT_IN_HEADER,
    Column,
    MappingError,
    header_score,
    map_columns,
    missing_mapped,
)
from adapters.importers.remarks import Remark, RemarkError

if TYPE_CHECKING:
    import openpyxl

HEADER_SEARCH_ROWS = 10  # the header is within the first rows (titles, blank lines above)
DELIMITERS = ";,\t|"
MAX_ROWS = 1_000_000
csv.field_size_limit(1_000_000)


class FileFormatError(RemarkError):
    """The file as a whole cannot be read (empty, not a table, no header row)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One contact-to-be from a file: where it starts, and its fields or why it failed."""

    line: int
    draft: Draft | None
    error: Remark | None = None


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
        # A UTF-16 export cut off mid-character (or with a stray odd byte) is still one:
        # the damaged character becomes U+FFFD instead of failing the whole import.
        return data.decode("utf-16", "replace"), "utf-16"
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
        raise FileFormatError(remarks.EMPTY_FILE)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # In a CSV file a cell's column is only its count of separators: a row with more or
    # fewer of them than the header cannot be placed (see `_misplaced`).
    table = _table(_numbered(reader), mapping, counted=True)
    return Table(table.header_line, table.columns, table.records, encoding, delimiter)


def read_xlsx(data: bytes, mapping: dict[str, str] | None = None) -> Table:
    """The first worksheet of an Excel workbook as a table."""
    import openpyxl  # imported here: only imports of .xlsx need it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # zipfile, zlib, XML and openpyxl's own errors: the file's fault
        raise FileFormatError(remarks.UNREADABLE_XLSX, detail=err) from err
    try:
        return _table(_sheet_rows(book), mapping)
    finally:
        book.close()


def _sheet_rows(book: openpyxl.Workbook) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows. In read-only mode openpyxl unzips and parses the sheet only
    while it is iterated, so a damaged workbook fails here, with whatever error zlib,
    the XML parser or openpyxl raise: each is the file's fault, said as such."""
    try:
        sheet = book.worksheets[0]
        for n, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield n, ["" if v is None else _cell_text(v) for v in row]
    except Exception as err:
        raise FileFormatError(remarks.UNREADABLE_XLSX, detail=err) from err


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
        raise FileFormatError(remarks.UNREADABLE_CSV, line=line, detail=err) from err


def _table(
    rows: Iterator[tuple[int, list[str]]], mapping: dict[str, str] | None, counted: bool = False
) -> Table:
    head: list[tuple[int, list[str]]] = []
    for numbered in rows:
        head.append(numbered)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not any(any(c.strip() for c in cells) for _, cells in head):
        raise FileFormatError(remarks.NO_ROWS)
    scored = [(header_score(cells, mapping), -i) for i, (_, cells) in enumerate(head)]
    score, minus_index = max(scored)
    if score < 2:
        raise FileFormatError(remarks.NO_HEADER)
    header_line, headers = head[-minus_index]
    headers = [h.strip() for h in headers]
    if mapping and (missing := missing_mapped(headers, mapping)):
        raise MappingError(NOT_IN_HEADER, columns=", ".join(missing))
    columns = map_columns(headers, mapping)
    data = list(islice(chain(head[-minus_index + 1 :], rows), MAX_ROWS + 1))
    if len(data) > MAX_ROWS:
        raise FileFormatError(remarks.TOO_MANY_ROWS, count=MAX_ROWS)
    data = [(line, cells) for line, cells in data if any(c.strip() for c in cells)]
    usual = _usual_width(data)
    records: list[Record] = []
    for line, cells in data:
        wrong = _misplaced(cells, headers, usual) if counted else None
        draft = None if wrong else Draft.of(columns, cells)
        records.append(Record(line, draft, wrong))
    return Table(header_line, columns, records)


def _usual_width(rows: list[tuple[int, list[str]]]) -> int:
    widths = Counter(len(cells) for _, cells in rows)
    return widths.most_common(1)[0][0] if widths else 0


def _misplaced(cells: list[str], headers: list[str], usual: int) -> Remark | None:
    """Why a row's cells cannot be matched to the header's columns, or None.

    A row with fewer cells than the header names (the user's "zu;wenig"), or with more
    that are not empty (a bare ";" inside a firm's name), would put values under the
    wrong columns: reported, never guessed. Two shapes are harmless and accepted: a header
    that ends with unnamed columns, and empty cells after the last column when every row
    of the file has them (a writer that ends each row with a separator).
    """
    named = len(headers)
    while named and not headers[named - 1]:
        named -= 1
    if len(cells) < named:
        return Remark.of(remarks.SHORT_ROW, found=len(cells), expected=named)
    extra = cells[len(headers) :]
    if extra and (any(c.strip() for c in extra) or len(cells) != usual):
        return Remark.of(remarks.LONG_ROW, found=len(cells), expected=len(headers))
    return None
