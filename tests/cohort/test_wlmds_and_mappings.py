"""WLMDS and Data Dictionary names as they are, and saved mappings for a PAS's own names."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.cohort.columns import MissingColumnsError, match_header
from app.cohort.mapping import MappingError, load_mapping, parse_mapping, suggest_mapping
from app.config import SOURCE_ROOT
from tests.cohort.support import write_csv
from tests.cohort.test_import import pathway, patient_of, run_import
from tests.test_cli import run_waitlist

EXAMPLES = SOURCE_ROOT / "docs" / "examples"
PAS_EXTRACT = EXAMPLES / "pas-ptl-extract.csv"
PAS_MAPPING = EXAMPLES / "pas-ptl-mapping.yaml"

# The WLMDS field names, spelt three ways as extracts write them.
WLMDS_HEADER = ",".join(
    [
        "NHS Number",
        "PERSON_BIRTH_DATE",
        "Person Given Name",
        "person family name",
        "Patient Pathway Identifier",
        "Organisation Code (Patient Pathway Identifier Issuer)",
        "REFERRAL_IDENTIFIER",
        "Referral To Treatment Period Start Date",
        "Activity Treatment Function Code",
        "Priority Type Code",
        "Waiting List Type",
        "Mobile Telephone Number",
        "Organisation Identifier (Code of Provider)",
    ]
)
FIRST_PERIOD = (
    "9990000018,1956-03-14,Ada,Testpatient,PPI0001,RXN,R1,2024-03-01,110,1,IRTT,07700900001,RXN"
)
SECOND_PERIOD = (
    "9990000018,1956-03-14,Ada,Testpatient,PPI0001,RXN,R2,2025-01-06,110,3,ORTT,07700900001,RXN"
)


def test_a_wlmds_extract_imports_as_it_is_keyed_by_the_wlmds_pathway_key(
    db_session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "wlmds.csv", FIRST_PERIOD, SECOND_PERIOD, header=WLMDS_HEADER)
    report = run_import(db_session, path)
    assert report.errors == [] and report.counts["imported"] == 2
    assert report.unknown_columns == []
    assert report.mapping["Patient Pathway Identifier"] == "pathway_id"
    assert report.mapping["Organisation Code (Patient Pathway Identifier Issuer)"] == (
        "pathway_id_issuer"
    )
    assert report.mapping["Referral To Treatment Period Start Date"] == "clock_start_date"
    # One patient pathway, two RTT periods: two rows, each under its full WLMDS key.
    first = pathway(db_session, "RXN:PPI0001:R1:2024-03-01")
    second = pathway(db_session, "RXN:PPI0001:R2:2025-01-06")
    assert (first.clock_start_date, second.clock_start_date) == (
        dt.date(2024, 3, 1),
        dt.date(2025, 1, 6),
    )
    assert (first.waiting_list_type, first.specialty_code) == ("IRTT", "110")
    assert first.flags == [] and second.flags == ["cancer_pathway"]  # priority type 3: 2WW
    assert patient_of(db_session, "RXN:PPI0001:R1:2024-03-01").mobile_phone == "+447700900001"
    again = run_import(db_session, path)
    assert (again.counts["unchanged"], again.counts["closed"]) == (2, 0)


def test_a_wlmds_row_that_repeats_the_whole_key_is_a_duplicate(
    db_session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "w.csv", FIRST_PERIOD, FIRST_PERIOD, header=WLMDS_HEADER)
    report = run_import(db_session, path)
    assert report.counts["imported"] == 1
    assert report.errors[0]["line"] == 3 and "more than once" in report.errors[0]["message"]


def test_a_wlmds_key_part_that_would_blur_the_key_is_rejected_with_its_column(
    db_session: Session, tmp_path: Path
) -> None:
    bad = FIRST_PERIOD.replace("PPI0001", "PPI:0001")
    report = run_import(db_session, write_csv(tmp_path / "w.csv", bad, header=WLMDS_HEADER))
    assert report.errors == [
        {
            "line": 2,
            "column": "pathway_id",
            "message": "pathway_id contains ':', which separates the key parts",
        }
    ]


def test_a_priority_type_outside_the_data_dictionary_codes_is_rejected(
    db_session: Session, tmp_path: Path
) -> None:
    bad = FIRST_PERIOD.replace(",110,1,IRTT", ",110,4,IRTT")
    report = run_import(db_session, write_csv(tmp_path / "w.csv", bad, header=WLMDS_HEADER))
    assert report.errors[0]["column"] == "priority_type"


def test_our_own_names_and_a_dictionary_name_for_the_same_column_refuse_the_file() -> None:
    with pytest.raises(Exception, match="more than once: date_of_birth"):
        match_header(["nhs_number", "date_of_birth", "Person Birth Date"])


def test_the_shipped_pas_extract_imports_with_its_shipped_mapping_and_not_without(
    db_session: Session,
) -> None:
    with pytest.raises(MissingColumnsError, match="--suggest-mapping"):
        run_import(db_session, PAS_EXTRACT)
    mapping = load_mapping(PAS_MAPPING)
    report = run_import(db_session, PAS_EXTRACT, mapping=mapping)
    assert report.errors == [] and report.counts["imported"] == 3
    assert report.mapping_name == "PAS PTL report"
    assert report.mapping["DOB"] == "date_of_birth" and report.mapping["TFC"] == "specialty_code"
    assert report.unknown_columns == ["Ward", "Weeks Waiting"]
    ben = patient_of(db_session, "PW0000102")
    assert (ben.date_of_birth, ben.landline_phone) == (dt.date(2015, 7, 30), "+441134960002")
    assert pathway(db_session, "PW0000101").local_patient_id == "H100001"


def test_the_suggestion_for_the_pas_extract_is_the_shipped_mapping() -> None:
    with PAS_EXTRACT.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    suggestion = suggest_mapping(header)
    assert suggestion.mapping.columns == load_mapping(PAS_MAPPING).columns
    assert suggestion.unmatched == ["Ward", "Weeks Waiting"]
    assert suggestion.missing == []
    round_trip = parse_mapping(suggestion.mapping.as_yaml())
    assert round_trip.columns == suggestion.mapping.columns


def test_a_suggestion_names_the_required_columns_it_could_not_find() -> None:
    suggestion = suggest_mapping(["NHS No", "Forename", "Surname", "Ward"])
    assert suggestion.missing == [
        "pathway_id",
        "date_of_birth",
        "specialty_code",
        "clock_start_date",
    ]
    assert suggestion.unmatched == ["Ward"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns:\n  DOB: birthday\n", "not one of our columns"),
        (
            "columns:\n  DOB: date_of_birth\n  Birth Date: date_of_birth\n",
            "both mapped to date_of_birth",
        ),
        ("columns:\n  DOB: date_of_birth\n  dob: date_of_birth\n", "header 'dob' twice"),
        ("columns: [a, b]\n", "needs a 'columns:' section"),
        ("columns:\n  DOB: date_of_birth\nsheets: PTL\n", "unknown key(s): sheets"),
        ("columns: {DOB: [date_of_birth\n", "not valid YAML"),
    ],
)
def test_a_mapping_that_cannot_be_used_as_written_is_refused_saying_why(
    text: str, message: str
) -> None:
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_mapping(text)


def test_the_command_line_suggests_a_mapping_then_imports_with_it(tmp_path: Path) -> None:
    assert run_waitlist("db", "upgrade", cwd=tmp_path).returncode == 0
    suggested = run_waitlist("import", "--suggest-mapping", str(PAS_EXTRACT), cwd=tmp_path)
    assert suggested.returncode == 0, suggested.stderr
    assert "Not mapped (ignored on import): Ward, Weeks Waiting" in suggested.stderr
    saved = tmp_path / "pas.yaml"
    saved.write_text(suggested.stdout)
    assert load_mapping(saved).columns == load_mapping(PAS_MAPPING).columns
    result = run_waitlist(
        "import", str(PAS_EXTRACT), "--mapping", str(saved), "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["imported"], document["format"]) == (3, "csv")
    assert document["mapping_name"] == "pas-ptl-extract"
    assert document["mapping"]["RTT Start"] == "clock_start_date"
    refused = run_waitlist("import", str(PAS_EXTRACT), "--json", cwd=tmp_path)
    assert refused.returncode == 1
    assert "lacks required column" in json.loads(refused.stdout)["error"]


def test_a_mapping_can_leave_out_a_column_that_bears_one_of_our_names() -> None:
    mapping = parse_mapping("columns:\n  NHS No: nhs_number\n  Site: null\n")
    assert mapping.ignored == ("Site",)
    header = ["NHS No", "pathway_id", "given_name", "family_name", "date_of_birth"]
    header += ["specialty_code", "clock_start_date", "SITE"]
    matched = match_header(header, mapping=mapping.lookup())
    assert "site" not in matched.positions and matched.unknown == ("SITE",)
    assert parse_mapping(mapping.as_yaml()).ignored == ("Site",)
