"""Excel workbooks as trusts save them: real .xlsx files written by openpyxl, read by calamine."""

from __future__ import annotations

import datetime as dt
import resource
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cohort import workbook
from app.cohort.columns import MissingColumnsError
from app.cohort.workbook import WorkbookError
from app.models import ImportJob, ImportStatus, Pathway
from tests.cohort.test_import import pathway, patient_of, run_import

HEADER = [
    "nhs_number",
    "pathway_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "mobile_phone",
    "specialty_code",
    "clock_start_date",
    "priority",
    "imd_decile",
]


def ada(**changes: Any) -> list[Any]:
    """Ada's row as Excel holds it: numbers as numbers, dates as dates."""
    row: dict[str, Any] = {
        "nhs_number": 9990000018,
        "pathway_id": "RXN-000001",
        "given_name": "Ada",
        "family_name": "Testpatient",
        "date_of_birth": dt.datetime(1956, 3, 14),  # noqa: DTZ001 - Excel date-times are naive
        "mobile_phone": 7700900001,  # Excel dropped the leading 0 of 07700 900001
        "specialty_code": 110,
        "clock_start_date": dt.date(2025, 1, 6),
        "priority": "P4",
        "imd_decile": 3.0,
    }
    row.update(changes)
    return [row[name] for name in HEADER]


def save(path: Path, sheets: dict[str, list[list[Any]]], *, epoch_1904: bool = False) -> Path:
    """A workbook with one sheet per entry, rows from A1 (``None`` leaves a cell empty)."""
    book = Workbook()
    book.remove(book.active)
    if epoch_1904:
        book.epoch = CALENDAR_MAC_1904
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "dd/mm/yyyy"
    book.save(path)
    return path


def test_an_xlsx_with_excel_dates_and_numeric_identifiers_imports_without_float_damage(
    db_session: Session, tmp_path: Path
) -> None:
    ben = ada(
        nhs_number=9990000026.0,  # a double, as every Excel number is
        pathway_id="RXN-000002",
        given_name="Ben",
        date_of_birth=dt.date(2015, 7, 30),
        mobile_phone="07700 900002",
        specialty_code=120.0,
    )
    path = save(tmp_path / "ptl.xlsx", {"PTL": [HEADER, ada(), [None] * 10, ben]})
    report = run_import(db_session, path)
    assert report.status is ImportStatus.SUCCEEDED, report.errors
    assert report.counts["imported"] == 2 and report.errors == []
    assert (report.file_format, report.sheet, report.encoding) == ("xlsx", "PTL", None)
    assert report.mapping == {name: name for name in HEADER}
    patient = patient_of(db_session, "RXN-000001")
    assert patient.nhs_number == "9990000018"
    assert patient.date_of_birth == dt.date(1956, 3, 14)
    assert patient.mobile_phone == "+447700900001"
    assert patient.imd_decile == 3
    assert patient_of(db_session, "RXN-000002").nhs_number == "9990000026"
    assert pathway(db_session, "RXN-000002").specialty_code == "120"
    assert pathway(db_session, "RXN-000001").clock_start_date == dt.date(2025, 1, 6)
    assert report.excluded["under_18"] == 1


def test_errors_name_the_spreadsheet_row_and_the_column(
    db_session: Session, tmp_path: Path
) -> None:
    rows: list[list[Any]] = [
        [None] * 10,  # Excel's row 1 left empty: the header is row 2
        HEADER,
        ada(),
        [None] * 10,
        ada(pathway_id="RXN-000002", nhs_number=9990000019),  # row 5: check digit wrong
        ada(pathway_id="RXN-000003", nhs_number=999000001.8),  # row 6: not a whole number
        ada(pathway_id="RXN-000004", date_of_birth=dt.date(2030, 1, 1)),  # row 7: future
    ]
    report = run_import(db_session, save(tmp_path / "ptl.xlsx", {"PTL": rows}))
    assert (report.counts["imported"], report.counts["rejected"]) == (1, 3)
    assert [(e["line"], e["column"]) for e in report.errors] == [
        (5, "nhs_number"),
        (6, "nhs_number"),
        (7, "date_of_birth"),
    ]
    assert "check digit" in report.errors[0]["message"]
    assert "10 digits" in report.errors[1]["message"]
    assert "'2030-01-01' is in the future" in report.errors[2]["message"]


def test_a_serial_number_in_a_date_column_is_an_excel_date_in_the_workbooks_own_epoch(
    db_session: Session, tmp_path: Path
) -> None:
    # 45663 is 2025-01-06 counted from 1900 (Windows Excel), 2029-01-07 from 1904 (old Mac Excel).
    windows = save(tmp_path / "w.xlsx", {"PTL": [HEADER, ada(clock_start_date=45663)]})
    run_import(db_session, windows, name="windows")
    assert pathway(db_session, "RXN-000001").clock_start_date == dt.date(2025, 1, 6)
    mac = ada(pathway_id="RXN-000002", clock_start_date=44000)  # 2024-06-19 from 1904
    run_import(db_session, save(tmp_path / "m.xlsx", {"PTL": [HEADER, mac]}, epoch_1904=True))
    assert pathway(db_session, "RXN-000002").clock_start_date == dt.date(2024, 6, 19)


def test_the_first_visible_sheet_is_read_unless_another_is_named(
    db_session: Session, tmp_path: Path
) -> None:
    path = save(
        tmp_path / "two.xlsx",
        {
            "Notes": [["Weekly PTL, produced by the information team"]],
            "PTL": [HEADER, ada()],
        },
    )
    with pytest.raises(MissingColumnsError, match="lacks required column"):
        run_import(db_session, path)
    job = db_session.scalars(select(ImportJob)).one()
    assert job.status is ImportStatus.FAILED
    report = run_import(db_session, path, sheet="PTL")
    assert (report.sheet, report.counts["imported"]) == ("PTL", 1)
    with pytest.raises(WorkbookError, match="no sheet 'Ptl'; its sheets are: Notes, PTL"):
        run_import(db_session, path, sheet="Ptl")


def test_a_tiny_workbook_that_claims_a_huge_sheet_is_refused_before_it_is_loaded(
    db_session: Session, tmp_path: Path
) -> None:
    # One cell at XFD1048576 makes calamine ask for 512 GiB and abort the whole process.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for column, name in enumerate(HEADER, start=1):
        sheet.cell(row=1, column=column, value=name)
    sheet["XFD1048576"] = "x"
    path = tmp_path / "bomb.xlsx"
    book.save(path)
    assert path.stat().st_size < 10_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(WorkbookError, match="1,048,576 rows by 16,384 columns"):
        run_import(db_session, path)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100_000
    assert db_session.scalars(select(Pathway)).all() == []


def test_a_file_that_only_looks_like_a_workbook_is_refused_clearly(
    db_session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(WorkbookError, match="cannot be read"):
        run_import(db_session, path)


def test_a_reimported_workbook_changes_nothing(db_session: Session, tmp_path: Path) -> None:
    path = save(tmp_path / "ptl.xlsx", {"PTL": [HEADER, ada()]})
    run_import(db_session, path)
    again = run_import(db_session, path)
    assert (again.counts["unchanged"], again.counts["updated"]) == (1, 0)


@given(st.integers(min_value=0, max_value=2**53 - 1))
def test_a_whole_number_held_as_a_double_comes_back_as_its_exact_digits(number: int) -> None:
    assert workbook._text(float(number)) == str(number)
    assert workbook._text(number) == str(number)


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()))
def test_a_number_with_a_fraction_is_never_rounded_into_a_whole_one(number: float) -> None:
    assert float(workbook._text(number)) == number
    assert not workbook._text(number).isdigit()


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)))
def test_an_excel_serial_date_is_the_date_excel_shows(day: dt.date) -> None:
    serial_1900 = (day - dt.date(1899, 12, 30)).days
    assert workbook._date_text(serial_1900, dt.date(1899, 12, 30)) == day.isoformat()
    assert workbook._date_text(float(serial_1900), dt.date(1899, 12, 30)) == day.isoformat()


def save_ods(path: Path, rows_xml: str) -> Path:
    """An OpenDocument spreadsheet written as LibreOffice lays one out (table PTL)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="PTL">{rows_xml}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
        ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def ods_cell(value: Any) -> str:
    if isinstance(value, dt.date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    )


def ods_row(cells: list[Any]) -> str:
    return "<table:table-row>" + "".join(map(ods_cell, cells)) + "</table:table-row>"


# LibreOffice pads every sheet to its full size with repeated empty rows and cells.
ODS_PADDING = (
    '<table:table-row table:number-rows-repeated="1048570">'
    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
)


def test_an_ods_workbook_imports_like_an_xlsx_one(db_session: Session, tmp_path: Path) -> None:
    path = save_ods(tmp_path / "ptl.ods", ods_row(HEADER) + ods_row(ada()) + ODS_PADDING)
    report = run_import(db_session, path)
    assert (report.file_format, report.sheet, report.counts["imported"]) == ("ods", "PTL", 1)
    assert report.errors == []
    patient = patient_of(db_session, "RXN-000001")
    assert (patient.nhs_number, patient.date_of_birth) == ("9990000018", dt.date(1956, 3, 14))
    assert patient.mobile_phone == "+447700900001"


def test_an_ods_whose_repeated_cells_hold_values_past_the_limit_is_refused_unopened(
    db_session: Session, tmp_path: Path
) -> None:
    bomb = (
        '<table:table-row table:number-rows-repeated="1000000">'
        '<table:table-cell table:number-columns-repeated="1000" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
    )
    path = save_ods(tmp_path / "bomb.ods", ods_row(HEADER) + bomb)
    assert path.stat().st_size < 10_000
    with pytest.raises(WorkbookError, match="1,000,001,000 cells"):
        run_import(db_session, path)
