"""Reading a cohort from a workbook (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``) with python-calamine.

calamine is fast (tens of thousands of rows a second) but reads a whole sheet into memory before
the first row comes out, and it sizes that memory from the cells' positions: a 5 KB ``.xlsx``
with one cell at XFD1048576 asks for 512 GiB and aborts the process. So before calamine sees a
zipped workbook, the sheet's XML is scanned as a stream for how far its cells reach, and a sheet
larger than ``CELL_LIMIT`` cells (or ``XML_LIMIT`` bytes) is refused. An ``.xls`` file cannot be
larger than 65,536 rows by 256 columns. Memory is therefore bounded by the limit, not by the file.

Cell values become the text the row validator reads, without float damage: a whole number held
as a double (``9434765919.0``, as Excel stores every number) is written as its digits (every
whole number below 2**53 is exact in a double, so no digit is lost); a date or date-time cell is
its date; in a date column a bare number is an Excel serial date, counted from the workbook's
own epoch (1900, or 1904 for old Mac workbooks).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from defusedxml import ElementTree as SafeXML
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from app.cohort.columns import DATE_COLUMNS, Header
from app.errors import InvalidInputError

CELL_LIMIT = 10_000_000
"""Cells (rows x columns of the sheet's extent) calamine may hold: about 900 MB measured at
~90 bytes a cell; e.g. 250,000 rows of 40 columns. A larger extract imports as CSV (streamed)."""
XML_LIMIT = 1 << 30
SHARED_STRINGS_LIMIT = 512 << 20
_BLOCK = 1 << 20
_XLS_EXTENT = 65_536 * 256
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr=\"([A-Z]{1,3})([0-9]{1,7})\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=\"([0-9]{1,7})\"")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_DATE1904 = re.compile(rb"date1904=\"(?:1|true)\"")
_EPOCH_1900 = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01, after Excel's phantom 1900-02-29
_EPOCH_1904 = dt.date(1904, 1, 1)
_DOUBLE_EXACT = 2**53
_ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
_INDEX_LIMIT = 16 << 20  # workbook.xml and its relationships: a few KB in any real workbook
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODS_ROW = f"{{{_TABLE_NS}}}table-row"
_ODS_TABLE = f"{{{_TABLE_NS}}}table"
_ODS_CELLS = (f"{{{_TABLE_NS}}}table-cell", f"{{{_TABLE_NS}}}covered-table-cell")
_ODS_ROWS_REPEATED = f"{{{_TABLE_NS}}}number-rows-repeated"
_ODS_COLUMNS_REPEATED = f"{{{_TABLE_NS}}}number-columns-repeated"
_ODS_VALUE_TYPE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}value-type"
_RELATIONSHIP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

Cell = int | float | str | bool | dt.date | dt.datetime | dt.time | dt.timedelta


class WorkbookError(InvalidInputError):
    """The workbook cannot be read safely; the message says why and what to do."""


@dataclass(frozen=True)
class WorkbookRows:
    """The chosen sheet's matched header and its rows as ``(spreadsheet row, cells)``."""

    sheet: str
    header: Header
    rows: Iterator[tuple[int, list[str]]]
    expected_rows: int


def workbook_format(head: bytes) -> str | None:
    """``xlsx``, ``ods`` or ``xls`` from a file's first bytes; None for anything else (text)."""
    if head.startswith(b"PK\x03\x04"):
        return "ods" if _ODS_MIMETYPE in head else "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    return None


def read_workbook(
    path: Path,
    *,
    file_format: str,
    sheet: str | None,
    match: Callable[[list[str]], Header],
) -> WorkbookRows:
    """The rows of ``sheet`` (default: the first visible worksheet), header matched by ``match``.

    Row numbers are the spreadsheet's own (the header is the sheet's first used row); rows with
    every cell empty are skipped. Raises WorkbookError for an unreadable or oversized workbook.
    """
    if file_format == "xlsx":
        _check_shared_strings(path)
    elif file_format == "ods":
        _check_ods(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except CalamineError as exc:
        raise WorkbookError(
            f"the file looks like a {file_format} workbook but cannot be read ({exc}); "
            "open it in Excel and save it again, or save it as CSV UTF-8"
        ) from exc
    except Exception as exc:  # python-calamine raises its own types for zip and XML faults
        raise WorkbookError(
            f"the file looks like a {file_format} workbook but cannot be read "
            f"({type(exc).__name__}); open it in Excel and save it again, or save it as CSV UTF-8"
        ) from exc
    name = _choose_sheet(book, sheet)
    date1904 = False
    if file_format == "xlsx":
        date1904 = _check_xlsx(path, book.sheet_names.index(name))
    try:
        data = book.get_sheet_by_name(name)
    except Exception as exc:
        raise WorkbookError(f"sheet {name!r} cannot be read ({type(exc).__name__})") from exc
    if data.height * max(data.width, 1) > CELL_LIMIT:  # an .xls file; zipped ones were scanned
        raise WorkbookError(_too_large(name, data.height, data.width))
    # calamine yields the rows from the sheet's first row (the empty ones above the data too),
    # so counting them gives the row numbers Excel shows. The first row with a value is the
    # header.
    rows = enumerate(data.iter_rows(), start=1)
    header_cells: list[str] = []
    for _, row in rows:
        if any(cell != "" for cell in row):
            header_cells = [_text(cell) for cell in row]
            break
    header = match(header_cells)
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    dates = frozenset(index for column, index in header.positions.items() if column in DATE_COLUMNS)

    def cells() -> Iterator[tuple[int, list[str]]]:
        for line, row in rows:
            if any(cell != "" for cell in row):
                texts = [
                    _date_text(cell, epoch) if index in dates else _text(cell)
                    for index, cell in enumerate(row)
                ]
                yield line, texts

    return WorkbookRows(
        sheet=name, header=header, rows=cells(), expected_rows=max(data.height - 1, 0)
    )


def sheet_header(path: Path, *, file_format: str, sheet: str | None) -> tuple[str, list[str]]:
    """The chosen sheet's name and first row as text, for suggesting a column mapping."""
    captured: list[list[str]] = []

    def keep(cells: list[str]) -> Header:
        captured.append(cells)
        return Header(positions={}, unknown=(), mapping={})

    found = read_workbook(path, file_format=file_format, sheet=sheet, match=keep)
    return found.sheet, captured[0]


def _choose_sheet(book: CalamineWorkbook, sheet: str | None) -> str:
    names = list(book.sheet_names)
    if sheet is not None:
        if sheet not in names:
            raise WorkbookError(
                f"the workbook has no sheet {sheet!r}; its sheets are: {', '.join(names)}"
            )
        return sheet
    for meta in book.sheets_metadata:
        if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet:
            return meta.name
    raise WorkbookError("the workbook has no visible worksheet")


def _check_xlsx(path: Path, index: int) -> bool:
    """Refuse a sheet too large to hold; whether the workbook counts dates from 1904."""
    try:
        with zipfile.ZipFile(path) as archive:
            workbook_xml = _read_small(archive, "xl/workbook.xml")
            member = _sheet_member(archive, workbook_xml, index)
            with archive.open(member) as stream:
                rows, columns = _extent(stream)
    except (zipfile.BadZipFile, KeyError, IndexError, SafeXML.ParseError, OSError) as exc:
        raise _unreadable(exc) from exc
    if rows * columns > CELL_LIMIT:
        raise WorkbookError(_too_large(f"sheet {index + 1}", rows, columns))
    return bool(_DATE1904.search(workbook_xml))


def _unreadable(exc: Exception) -> WorkbookError:
    return WorkbookError(
        f"the workbook's structure cannot be read ({type(exc).__name__}); "
        "open it in Excel and save it again, or save it as CSV UTF-8"
    )


def _check_shared_strings(path: Path) -> None:
    """calamine reads every shared string when it opens a workbook: refuse an outsized table."""
    try:
        with zipfile.ZipFile(path) as archive:
            size = _member_size(archive, "xl/sharedStrings.xml")
    except (zipfile.BadZipFile, OSError) as exc:
        raise _unreadable(exc) from exc
    if size > SHARED_STRINGS_LIMIT:
        raise WorkbookError(
            "the workbook's shared strings are too large to read; save the sheet as CSV UTF-8"
        )


class _CountedStream:
    """A member's bytes for the XML parser, refused past ``XML_LIMIT``."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        block: bytes = self.stream.read(_BLOCK if size < 0 else min(size, _BLOCK))
        self.count += len(block)
        if self.count > XML_LIMIT:
            raise WorkbookError("the workbook is too large to read; save the sheet as CSV UTF-8")
        return block


def _check_ods(path: Path) -> None:
    """Refuse an OpenDocument workbook whose tables would hold more than ``CELL_LIMIT`` cells."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as stream:
            cells = _ods_cells(_CountedStream(stream))
    except (zipfile.BadZipFile, KeyError, SafeXML.ParseError, ValueError, OSError) as exc:
        raise _unreadable(exc) from exc
    if cells > CELL_LIMIT:
        raise WorkbookError(
            f"the workbook's sheets hold {cells:,} cells, more than the {CELL_LIMIT:,} a "
            "workbook may hold here (save the sheet as CSV UTF-8, which is read as a stream)"
        )


def _ods_cells(stream: Any) -> int:
    """Cells calamine will hold: every table's rows and columns up to its last value.

    Parsed as a stream; each cell and row is dropped from the tree once counted, so memory
    stays flat however many there are.
    """
    total = rows = last_row = widest = column = last_column = 0
    parents: list[Any] = []
    for event, node in SafeXML.iterparse(stream, events=("start", "end")):
        if event == "start":
            parents.append(node)
            continue
        parents.pop()
        if node.tag in _ODS_CELLS:
            column += _repeat(node, _ODS_COLUMNS_REPEATED)
            if node.get(_ODS_VALUE_TYPE) is not None or len(node):
                last_column = column
        elif node.tag == _ODS_ROW:
            rows += _repeat(node, _ODS_ROWS_REPEATED)
            if last_column:
                last_row, widest = rows, max(widest, last_column)
            column = last_column = 0
        elif node.tag == _ODS_TABLE:
            total += last_row * widest
            rows = last_row = widest = 0
        else:
            continue
        if parents:
            parents[-1].remove(node)
    return total


def _repeat(node: Any, attribute: str) -> int:
    try:
        return max(int(node.get(attribute, "1")), 1)
    except ValueError:
        return 1


def _sheet_member(archive: zipfile.ZipFile, workbook_xml: bytes, index: int) -> str:
    """The zip member holding the ``index``-th sheet, through the workbook's relationships."""
    root = SafeXML.fromstring(workbook_xml)
    sheets = [node for node in root.iter() if node.tag.endswith("}sheet")]
    rel_id = sheets[index].get(f"{{{_RELATIONSHIP_NS}}}id")
    rels = SafeXML.fromstring(_read_small(archive, "xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = str(rel.get("Target", ""))
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    raise KeyError(rel_id)


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    if _member_size(archive, name) > _INDEX_LIMIT:
        raise WorkbookError(f"the workbook's {name} is implausibly large")
    return archive.read(name)


def _member_size(archive: zipfile.ZipFile, name: str) -> int:
    try:
        return archive.getinfo(name).file_size
    except KeyError:
        return 0


def _extent(stream: Any) -> tuple[int, int]:
    """How many rows and columns the sheet's cells reach, read as a stream of XML bytes.

    Cells without an ``r`` reference sit after the previous one, so each such cell (or row)
    may widen (or lengthen) the sheet by one: counted as such, the bound stays safe.
    """
    max_row = max_column = 0
    cells = referenced_cells = row_tags = referenced_rows = 0
    read = 0
    tail = b""
    while block := stream.read(_BLOCK):
        read += len(block)
        if read > XML_LIMIT:
            raise WorkbookError("the sheet is too large to read; save it as CSV UTF-8")
        # A tag may straddle two blocks: scan up to the last '<' and carry the rest over.
        text = tail + block
        cut = text.rfind(b"<")
        text, tail = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
        for match in _CELL_REF.finditer(text):
            max_column = max(max_column, _column_number(match[1]))
            max_row = max(max_row, int(match[2]))
            referenced_cells += 1
        for match in _ROW_REF.finditer(text):
            max_row = max(max_row, int(match[1]))
            referenced_rows += 1
        cells += len(_CELL_TAG.findall(text))
        row_tags += len(_ROW_TAG.findall(text))
    rows = max_row + max(row_tags - referenced_rows, 0)
    columns = max_column + max(cells - referenced_cells, 0)
    return rows, columns


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _too_large(where: str, rows: int, columns: int) -> str:
    return (
        f"{where} reaches {rows:,} rows by {columns:,} columns, more than the "
        f"{CELL_LIMIT:,} cells a workbook may hold here (clear unused rows and columns, or "
        "save the sheet as CSV UTF-8, which is read as a stream)"
    )


def _text(cell: Cell) -> str:
    """A cell as the text a CSV export of it would hold, without float damage."""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "Y" if cell else "N"
    if isinstance(cell, float):
        if cell.is_integer() and abs(cell) < _DOUBLE_EXACT:
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


def _date_text(cell: Cell, epoch: dt.date) -> str:
    """A date column's cell: a whole number is an Excel serial date from ``epoch``."""
    if isinstance(cell, int | float) and not isinstance(cell, bool) and float(cell).is_integer():
        serial = int(cell)
        # From 1900-03-01: the 1900 system's serials before it count a 29 February that never was.
        if (61 if epoch == _EPOCH_1900 else 0) <= serial <= 2_958_465:  # to 9999-12-31
            return (epoch + dt.timedelta(days=serial)).isoformat()
    return _text(cell)
