from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cohort import service as store_module  # the name import_cohort calls
from app.cohort.columns import DuplicateColumnsError, MissingColumnsError
from app.cohort.encoding import EncodingError
from app.cohort.service import ImportReport, import_cohort
from app.config import SOURCE_ROOT
from app.conversations.sms import opt_out, patients_with_number
from app.eligibility.rules import load_rules
from app.models import ImportJob, ImportStatus, Outcome, Pathway, PathwayStatus, Patient
from tests.cohort.support import ADA, BEN, CARA, HEADER, write_csv

TODAY = dt.date(2026, 11, 22)
RULES = load_rules(SOURCE_ROOT / "exclusions")


def run_import(session: Session, path: Path, name: str = "north", **kwargs: Any) -> ImportReport:
    return import_cohort(
        session,
        cohort_name=name,
        path=path,
        default_provider_code="RXN",
        rules=RULES,
        today=TODAY,
        **{"actor": "alice", **kwargs},
    )


def pathway(session: Session, pathway_id: str) -> Pathway:
    return session.scalars(select(Pathway).where(Pathway.pathway_id == pathway_id)).one()


def patient_of(session: Session, pathway_id: str) -> Patient:
    found = session.get(Patient, pathway(session, pathway_id).patient_id)
    assert found is not None
    return found


def test_it_imports_the_contract_example_and_applies_the_rules(
    db_session: Session, tmp_path: Path
) -> None:
    report = run_import(db_session, write_csv(tmp_path / "c.csv", ADA, BEN, CARA))
    assert report.status is ImportStatus.SUCCEEDED
    assert report.counts == {
        "rows": 3,
        "imported": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "closed": 0,
    }
    assert report.excluded["under_18"] == 1
    assert report.excluded["dementia"] == 1
    assert pathway(db_session, "RXN-000001").outcome is Outcome.PENDING
    assert pathway(db_session, "RXN-000003").outcome is Outcome.EXCLUDED
    assert patient_of(db_session, "RXN-000001").mobile_phone == "+447700900001"
    assert pathway(db_session, "RXN-000001").provider_code == "RXN"


def test_a_utf8_file_with_a_byte_order_mark_imports(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + ADA + "\n").encode())
    report = run_import(db_session, path)
    assert report.encoding == "utf-8-sig"
    assert report.counts["imported"] == 1
    assert report.unknown_columns == []


def test_a_windows_1252_file_keeps_accented_names_intact(
    db_session: Session, tmp_path: Path
) -> None:
    row = "9990000018,RXN-000001,Zoë,Ó Ceallaigh,1956-03-14,07700 900001,110,2025-01-06,P4,3,"
    report = run_import(db_session, write_csv(tmp_path / "excel.csv", row, encoding="cp1252"))
    assert report.encoding == "cp1252"
    patient = patient_of(db_session, "RXN-000001")
    assert (patient.given_name, patient.family_name) == ("Zoë", "Ó Ceallaigh")


def test_a_file_in_neither_encoding_is_refused_and_the_job_failed(
    db_session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes((HEADER + "\n").encode() + b"9990000018,RXN-1,Ada\x81,T,1956-03-14\n")
    with pytest.raises(EncodingError, match="neither UTF-8 nor Windows-1252"):
        run_import(db_session, path)
    job = db_session.scalars(select(ImportJob)).one()
    assert job.status is ImportStatus.FAILED
    assert "Windows-1252" in (job.error or "")


def test_a_utf16_file_is_refused_with_advice(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u16.csv", ADA, encoding="utf-16")
    with pytest.raises(EncodingError, match="UTF-16"):
        run_import(db_session, path)


def test_a_missing_required_header_refuses_the_whole_file(
    db_session: Session, tmp_path: Path
) -> None:
    header = HEADER.replace("clock_start_date", "referral_date")
    with pytest.raises(MissingColumnsError, match="clock_start_date"):
        run_import(db_session, write_csv(tmp_path / "c.csv", ADA, header=header))
    assert db_session.scalars(select(Pathway)).all() == []


def test_headers_match_ignoring_case_and_spaces_and_unknown_ones_are_reported_once(
    db_session: Session, tmp_path: Path
) -> None:
    header = " NHS_Number ,Pathway_ID,given_name,FAMILY_NAME,date_of_birth,ward,specialty_code,"
    header += "clock_start_date,priority,imd_decile,flags"
    report = run_import(db_session, write_csv(tmp_path / "c.csv", ADA, BEN, header=header))
    assert report.counts["imported"] == 2
    assert report.unknown_columns == ["ward"]
    assert report.errors == []


@pytest.mark.parametrize(
    ("cell", "column", "value", "message"),
    [
        ("999 000 0018", "nhs_number", "999 000 0019", "check digit"),
        ("999 000 0018", "nhs_number", "99900001", "10 digits"),
        ("RXN-000001", "pathway_id", "", "required but empty"),
        ("Ada", "given_name", "", "required but empty"),
        ("1956-03-14", "date_of_birth", "1956-02-30", "not a real date"),
        ("1956-03-14", "date_of_birth", "03/14/1956", "day first"),
        ("1956-03-14", "date_of_birth", "14 Mar 1956", "YYYY-MM-DD or DD/MM/YYYY"),
        ("1956-03-14", "date_of_birth", "2099-01-01", "in the future"),
        ("2025-01-06", "clock_start_date", "2027-01-01", "in the future"),
        (",110,", "specialty_code", ",11,", "3-digit"),
        ("P4", "priority", "P9", "P1 to P6"),
        (",3,", "imd_decile", ",11,", "1 to 10"),
        ("Testpatient", "family_name", "=HYPERLINK(1)", "formula"),
        ("Testpatient", "family_name", "@SUM(A1)", "formula"),
        ("Testpatient", "family_name", "+1", "formula"),
        ("Testpatient", "family_name", "-2+3", "formula"),
        ("Testpatient", "family_name", '"Test\npatient"', "line break"),
        ("Testpatient", "family_name", '"Test\r\npatient"', "line break"),
        ("Ada", "given_name", "A\tda", "control character (U+0009)"),
        ("Ada", "given_name", "A\u0085da", "control character (U+0085)"),
        ("Ada", "given_name", "A\u2028da", "control character (U+2028)"),
        ("Ada", "given_name", "A\u202eda", "control character (U+202E)"),
        ("RXN-000001", "pathway_id", '"RXN-\n000001"', "line break"),
        (",3,", "imd_decile", ",5.5,", "1 to 10"),
        (",3,", "imd_decile", ",10.01,", "1 to 10"),
    ],
)
def test_each_bad_cell_rejects_its_row_with_line_and_column(
    db_session: Session, tmp_path: Path, cell: str, column: str, value: str, message: str
) -> None:
    bad = ADA.replace(cell, value, 1)
    report = run_import(db_session, write_csv(tmp_path / "c.csv", BEN, bad))
    assert report.counts["imported"] == 1
    assert report.counts["rejected"] == 1
    assert [(e["line"], e["column"]) for e in report.errors] == [(3, column)]
    assert message in report.errors[0]["message"]


def test_an_unknown_flag_is_refused_rather_than_silently_dropped(
    db_session: Session, tmp_path: Path
) -> None:
    report = run_import(db_session, write_csv(tmp_path / "c.csv", ADA + "dementa"))
    assert report.errors[0]["column"] == "flags"
    assert "dementa" in report.errors[0]["message"]


def test_dates_are_read_day_first_never_in_us_order(db_session: Session, tmp_path: Path) -> None:
    row = ADA.replace("1956-03-14", "01/02/1956")
    run_import(db_session, write_csv(tmp_path / "c.csv", row))
    assert patient_of(db_session, "RXN-000001").date_of_birth == dt.date(1956, 2, 1)


def test_a_row_with_no_usable_phone_is_imported_and_then_excluded(
    db_session: Session, tmp_path: Path
) -> None:
    row = ADA.replace("07700 900001", "0909 879 0000")  # premium rate: never a patient's number
    report = run_import(db_session, write_csv(tmp_path / "c.csv", row))
    assert report.counts["imported"] == 1
    assert report.excluded["no_phone"] == 1
    assert patient_of(db_session, "RXN-000001").mobile_phone is None


def test_a_landline_given_as_mobile_is_stored_as_a_landline(
    db_session: Session, tmp_path: Path
) -> None:
    row = ADA.replace("07700 900001", "(0113) 496 0123")
    run_import(db_session, write_csv(tmp_path / "c.csv", row))
    patient = patient_of(db_session, "RXN-000001")
    assert (patient.mobile_phone, patient.landline_phone) == (None, "+441134960123")


def test_a_pathway_listed_twice_keeps_its_first_row(db_session: Session, tmp_path: Path) -> None:
    again = ADA.replace("P4", "P2")
    report = run_import(db_session, write_csv(tmp_path / "c.csv", ADA, BEN, again))
    assert report.counts["imported"] == 2
    assert report.errors[0]["line"] == 4
    assert "more than once" in report.errors[0]["message"]
    assert pathway(db_session, "RXN-000001").priority == "P4"


def test_line_numbers_count_spreadsheet_rows_not_newlines(
    db_session: Session, tmp_path: Path
) -> None:
    header = HEADER + ",notes"  # an unknown column: free text there may span lines
    multi = BEN + ',"Grommets\nboth ears"'
    bad = ADA.replace("P4", "P0") + ",Hip"
    report = run_import(db_session, write_csv(tmp_path / "c.csv", multi, bad, header=header))
    assert report.errors[0]["line"] == 3


def test_reimporting_the_same_file_changes_nothing(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ADA, BEN, CARA)
    run_import(db_session, path)
    before = {p.pathway_id: (p.updated_at, p.row_hash) for p in db_session.scalars(select(Pathway))}
    report = run_import(db_session, path)
    db_session.expire_all()
    after = {p.pathway_id: (p.updated_at, p.row_hash) for p in db_session.scalars(select(Pathway))}
    assert report.counts == {
        "rows": 3,
        "imported": 0,
        "updated": 0,
        "unchanged": 3,
        "rejected": 0,
        "closed": 0,
    }
    assert after == before


def test_a_newer_extract_updates_and_closes_pathways_that_disappeared(
    db_session: Session, tmp_path: Path
) -> None:
    run_import(db_session, write_csv(tmp_path / "a.csv", ADA, BEN, CARA))
    newer = ADA.replace("P4", "P2")
    report = run_import(db_session, write_csv(tmp_path / "b.csv", newer, BEN))
    db_session.expire_all()
    assert report.counts["updated"] == 1
    assert report.counts["unchanged"] == 1
    assert report.counts["closed"] == 1
    closed = pathway(db_session, "RXN-000003")
    assert closed.status is PathwayStatus.CLOSED
    assert closed.closed_at is not None
    assert pathway(db_session, "RXN-000001").priority == "P2"


def test_a_closed_pathway_that_returns_is_reopened(db_session: Session, tmp_path: Path) -> None:
    run_import(db_session, write_csv(tmp_path / "a.csv", ADA, BEN))
    run_import(db_session, write_csv(tmp_path / "b.csv", ADA))
    report = run_import(db_session, write_csv(tmp_path / "c.csv", ADA, BEN))
    db_session.expire_all()
    assert report.counts["updated"] == 1
    reopened = pathway(db_session, "RXN-000002")
    assert (reopened.status, reopened.closed_at) == (PathwayStatus.OPEN, None)


def test_a_crash_mid_import_leaves_whole_chunks_and_a_failed_job(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store_module.write_chunk
    calls = {"n": 0}

    def crash_on_second_chunk(session: Session, **kwargs: Any) -> Any:
        calls["n"] += 1
        result = real(session, **kwargs)
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return result

    monkeypatch.setattr(store_module, "write_chunk", crash_on_second_chunk)
    path = write_csv(tmp_path / "c.csv", ADA, BEN, CARA)
    with pytest.raises(RuntimeError):
        run_import(db_session, path, chunk_rows=2)
    db_session.expire_all()
    assert sorted(p.pathway_id for p in db_session.scalars(select(Pathway))) == [
        "RXN-000001",
        "RXN-000002",
    ]
    job = db_session.scalars(select(ImportJob)).one()
    assert (job.status, job.rows, job.imported) == (ImportStatus.FAILED, 2, 2)


def test_a_patient_who_said_stop_stays_opted_out_and_excluded_after_a_newer_extract(
    db_session: Session, tmp_path: Path
) -> None:
    run_import(db_session, write_csv(tmp_path / "first.csv", ADA))
    assert pathway(db_session, "RXN-000001").outcome == Outcome.PENDING
    opt_out(db_session, patients=patients_with_number(db_session, "+447700900001"))
    stopped_at = patient_of(db_session, "RXN-000001").opted_out_at
    assert stopped_at is not None

    newer = ADA.replace("P4,3,", "P2,3,")  # the PAS changed the priority since
    report = run_import(db_session, write_csv(tmp_path / "newer.csv", newer))

    assert report.counts["updated"] == 1
    assert patient_of(db_session, "RXN-000001").opted_out_at == stopped_at
    assert report.excluded["opted_out"] == 1
    assert pathway(db_session, "RXN-000001").outcome == Outcome.EXCLUDED


@pytest.mark.parametrize(("cell", "decile"), [("5.0", 5), ("10.00", 10), ("3", 3)])
def test_a_whole_imd_decile_written_as_a_decimal_is_accepted(
    db_session: Session, tmp_path: Path, cell: str, decile: int
) -> None:
    report = run_import(db_session, write_csv(tmp_path / "c.csv", ADA.replace(",3,", f",{cell},")))
    assert report.errors == []
    assert patient_of(db_session, "RXN-000001").imd_decile == decile


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (HEADER + ",given_name", "given_name"),
        (HEADER + ", Priority ,NHS_NUMBER", "priority, nhs_number"),
    ],
)
def test_a_header_naming_a_column_twice_refuses_the_file(
    db_session: Session, tmp_path: Path, header: str, named: str
) -> None:
    with pytest.raises(DuplicateColumnsError, match=f"more than once: {named} "):
        run_import(db_session, write_csv(tmp_path / "c.csv", ADA, header=header))
    assert db_session.scalars(select(Pathway)).all() == []
    job = db_session.scalars(select(ImportJob)).one()
    assert job.status is ImportStatus.FAILED


def test_an_unknown_column_named_twice_is_reported_once_and_the_file_imports(
    db_session: Session, tmp_path: Path
) -> None:
    report = run_import(
        db_session, write_csv(tmp_path / "c.csv", ADA, header=HEADER + ",ward,ward")
    )
    assert (report.counts["imported"], report.unknown_columns) == (1, ["ward"])


def test_a_semicolon_separated_file_is_refused_with_advice(
    db_session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", ADA.replace(",", ";"), header=HEADER.replace(",", ";"))
    with pytest.raises(MissingColumnsError, match="separated by semicolons"):
        run_import(db_session, path)
