"""Workbooks, WLMDS names and column mappings through the API and the pages."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from tests.cohort.test_wlmds_and_mappings import PAS_EXTRACT, PAS_MAPPING
from tests.cohort.test_workbooks import HEADER, ada, save
from tests.support.users import Personas
from tests.support.web import csrf_token_in, sign_in
from tests.web.test_cohort_imports import _bearer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_a_pas_job_uploads_a_workbook_with_its_mapping_and_reads_the_mapping_back(
    client: httpx.AsyncClient, db_session: Session, tmp_path: Path
) -> None:
    renamed = ["NHS No" if name == "nhs_number" else name for name in HEADER]
    book = save(tmp_path / "ptl.xlsx", {"Notes": [["read me"]], "PTL": [renamed, ada()]})
    headers = _bearer(db_session)
    response = await client.post(
        "/api/v1/cohorts/north/imports",
        headers=headers,
        data={"sheet": "PTL"},
        files={
            "file": ("ptl.xlsx", book.read_bytes(), XLSX),
            "mapping": ("pas.yaml", b"columns:\n  NHS No: nhs_number\n", "application/yaml"),
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["imported"], body["format"], body["sheet"]) == (1, "xlsx", "PTL")
    assert (body["mapping_name"], body["mapping"]["NHS No"]) == ("pas.yaml", "nhs_number")
    again = await client.get(f"/api/v1/imports/{body['import_job_id']}", headers=headers)
    assert again.json()["mapping"] == body["mapping"]


async def test_a_mapping_that_cannot_be_used_is_a_422_saying_why(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    response = await client.post(
        "/api/v1/cohorts/north/imports",
        headers=_bearer(db_session),
        files={
            "file": ("pas.csv", PAS_EXTRACT.read_bytes(), "text/csv"),
            "mapping": ("pas.yaml", b"columns:\n  DOB: birthday\n", "application/yaml"),
        },
    )
    assert response.status_code == 422
    assert "not one of our columns" in response.json()["detail"]


def _selected(page: str) -> dict[str, str]:
    """Each file column on the mapping page with the column selected for it."""
    found: dict[str, str] = {}
    for row in re.findall(r"<tr>\s*<td><label.*?</tr>", page, flags=re.S):
        header = re.search(r'name="header" value="([^"]*)"', row)
        chosen = re.search(r'<option value="([^"]*)" selected>', row)
        assert header is not None
        found[header[1].replace("&amp;", "&")] = chosen[1] if chosen else ""
    return found


async def test_an_extract_with_its_own_names_is_matched_on_a_page_then_imported(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "bob", personas.passwords["bob"])
    form = await page_client.get("/cohorts")
    extract = PAS_EXTRACT.read_bytes()
    proposed = await page_client.post(
        "/cohorts/imports",
        data={"csrf_token": csrf_token_in(form.text), "name": "North PTL"},
        files={"file": ("pas.csv", extract, "text/csv")},
    )
    assert proposed.status_code == 200
    assert "Confirm the column mapping" in proposed.text
    selected = _selected(proposed.text)
    assert selected["DOB"] == "date_of_birth" and selected["Ward"] == ""
    assert "TFC: specialty_code" in proposed.text  # the same mapping as a file
    # The coordinator changes one line (the site column is not wanted) and imports.
    selected["Site"] = ""
    imported = await page_client.post(
        "/cohorts/imports/mapped",
        data={
            "csrf_token": csrf_token_in(proposed.text),
            "name": "North PTL",
            "header": list(selected),
            "column": list(selected.values()),
        },
        files={"file": ("pas.csv", extract, "text/csv")},
    )
    assert imported.status_code == 303, imported.text
    result = await page_client.get(imported.headers["location"])
    assert "<td>DOB</td><td>date_of_birth</td>" in result.text
    assert "<td>Site</td>" not in result.text
    assert "confirmed on the cohorts page" in result.text
    assert "No rows were rejected." in result.text


async def test_a_confirmed_mapping_that_fills_a_column_twice_is_shown_again_with_the_problem(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "bob", personas.passwords["bob"])
    form = await page_client.get("/cohorts/mapping")
    assert form.status_code == 200
    checked = await page_client.post(
        "/cohorts/mapping",
        data={"csrf_token": csrf_token_in(form.text)},
        files={"file": ("pas.csv", PAS_EXTRACT.read_bytes(), "text/csv")},
    )
    assert checked.status_code == 200 and "Confirm the column mapping" in checked.text
    response = await page_client.post(
        "/cohorts/imports/mapped",
        data={
            "csrf_token": csrf_token_in(checked.text),
            "name": "North PTL",
            "header": ["DOB", "RTT Start"],
            "column": ["date_of_birth", "date_of_birth"],
        },
        files={"file": ("pas.csv", PAS_EXTRACT.read_bytes(), "text/csv")},
    )
    assert response.status_code == 200
    assert "Error: Confirm the column mapping" in response.text
    assert "both mapped to date_of_birth" in response.text
    assert PAS_MAPPING.exists()
