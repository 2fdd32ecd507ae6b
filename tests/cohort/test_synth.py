from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from nhs_number.validate import is_valid

from app.cohort.synth import SHOWCASE, write_synthetic_cohort
from app.phones import normalise_phone
from tests.test_cli import run_waitlist

AS_OF = dt.date(2026, 11, 22)


def synthetic(rows: int, seed: int = 1, bad_rows: int = 0) -> str:
    out = io.StringIO()
    write_synthetic_cohort(out, rows=rows, seed=seed, bad_rows=bad_rows, as_of=AS_OF)
    return out.getvalue()


def test_the_same_seed_gives_the_same_file_and_another_seed_another() -> None:
    assert synthetic(300, seed=7) == synthetic(300, seed=7)
    assert synthetic(300, seed=7) != synthetic(300, seed=8)


def test_every_person_is_synthetic_and_every_phone_fictional() -> None:
    rows = list(csv.DictReader(io.StringIO(synthetic(500))))
    assert all(is_valid(r["nhs_number"]) and r["nhs_number"].startswith("999") for r in rows)
    assert all("Testpatient" in r["family_name"] for r in rows)
    numbers = [r[c] for r in rows for c in ("mobile_phone", "landline_phone") if r[c]]
    assert all(normalise_phone(n).fictional for n in numbers)
    assert any(not r["mobile_phone"] and r["landline_phone"] for r in rows)
    assert any(not r["mobile_phone"] and not r["landline_phone"] for r in rows)


def test_children_appear_only_in_paediatric_specialties() -> None:
    for row in csv.DictReader(io.StringIO(synthetic(2000))):
        born = row["date_of_birth"]
        year = int(born[:4]) if "-" in born else int(born[-4:])
        if AS_OF.year - year < 17:
            assert row["specialty_code"] in {"171", "420"}


def test_the_cli_writes_a_file_that_imports_with_exactly_the_bad_rows_rejected(
    tmp_path: Path,
) -> None:
    made = run_waitlist(
        "synth",
        "--rows",
        "400",
        "--out",
        "c.csv",
        "--bad-rows",
        "9",
        "--as-of",
        "2026-11-22",
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert run_waitlist("db", "upgrade", cwd=tmp_path).returncode == 0
    result = run_waitlist("import", "c.csv", "--name", "north", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["rows"], report["rejected"], report["imported"]) == (400, 9, 391)
    assert {e["column"] for e in report["errors"]} >= {"nhs_number", "date_of_birth", "flags"}
    assert set(report["excluded"]) >= {"under_18", "dementia", "no_phone"}
    again = json.loads(
        run_waitlist("import", "c.csv", "--name", "north", "--json", cwd=tmp_path).stdout
    )
    assert (again["unchanged"], again["imported"], again["updated"]) == (391, 0, 0)


def test_the_cli_refuses_to_start_with_a_bad_rule_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.yaml").write_text(
        "id: x_rule\ndescription: d\nreason: r\ncondition: {kind: opted_out}\n"
    )
    (tmp_path / "c.csv").write_text("nhs_number\n")
    result = run_waitlist(
        "import", "c.csv", cwd=tmp_path, env={"WAITLIST_EXCLUSIONS_DIR": str(rules)}
    )
    assert result.returncode == 2
    assert "x.yaml" in result.stderr and "x_rule" in result.stderr
    assert "clinical_owner" in result.stderr


def test_a_showcase_file_holds_every_routing_to_a_person_whatever_the_seed() -> None:
    for seed in range(5):
        out = io.StringIO()
        write_synthetic_cohort(out, rows=40, seed=seed, bad_rows=3, as_of=AS_OF, showcase=True)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        for wanted in SHOWCASE:
            # One with it whom nothing else keeps from the routing it shows.
            assert any(
                all(r[k] == v for k, v in wanted.items())
                and r["mobile_phone"]
                and not r["date_of_death"]
                and not r["diagnosis_codes"]
                for r in rows
            ), f"seed {seed}: no {wanted}"
    plain = io.StringIO()
    write_synthetic_cohort(plain, rows=300, seed=7, as_of=AS_OF)
    assert plain.getvalue() == synthetic(300, seed=7)  # without it, the file is as before
