"""A realistic synthetic cohort: NHS numbers from the synthetic 999 range, Ofcom drama phones.

Deterministic for a seed and an ``as_of`` date. Nobody in it exists: names are ``Testpatient``
variants, every number is fictional by construction, so a synthetic file can never ring anyone.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from nhs_number.validate import calculate_checksum

HEADER = (
    "nhs_number",
    "pathway_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "mobile_phone",
    "landline_phone",
    "specialty_code",
    "specialty_name",
    "clock_start_date",
    "priority",
    "waiting_list_type",
    "imd_decile",
    "sex",
    "ethnic_category",
    "preferred_language",
    "interpreter_required",
    "postcode",
    "flags",
    "diagnosis_codes",
    "date_of_death",
)


@dataclass(frozen=True)
class Specialty:
    """A treatment function with the ages its patients usually have."""

    code: str
    name: str
    mean_age: float
    sd_age: float
    weight: int
    children: bool = False
    female_only: bool = False


SPECIALTIES = (
    Specialty("110", "Trauma and Orthopaedics", 61, 15, 22),
    Specialty("120", "Ear Nose and Throat", 44, 20, 10),
    Specialty("130", "Ophthalmology", 70, 12, 14),
    Specialty("100", "General Surgery", 52, 17, 12),
    Specialty("101", "Urology", 63, 14, 8),
    Specialty("502", "Gynaecology", 44, 14, 8, female_only=True),
    Specialty("320", "Cardiology", 66, 12, 6),
    Specialty("330", "Dermatology", 50, 20, 6),
    Specialty("171", "Paediatric Surgery", 8, 5, 4, children=True),
    Specialty("420", "Paediatrics", 7, 5, 4, children=True),
)
_WEIGHTS = [s.weight for s in SPECIALTIES]
GIVEN = (
    "Ada",
    "Ben",
    "Cara",
    "Dafydd",
    "Eilidh",
    "Femi",
    "Grace",
    "Hamza",
    "Iona",
    "Jack",
    "Kasia",
    "Liam",
    "Mei",
    "Niamh",
    "Olu",
    "Priya",
    "Rhys",
    "Siân",
    "Tomasz",
    "Zoë",
)
FAMILY = (
    "Testpatient",
    "Testpatient",
    "Testpatient",
    "Testpatient-Jones",
    "Testpatient-Ó Ceallaigh",
    "Testpatient-Nowak",
    "O'Testpatient",
    "Testpatient-Müller",
)
DEMENTIA_CODES = ("F03", "F03.90", "G30.1", "F01.5", "G31.0", "52448006")
OTHER_FLAGS = (
    ("safeguarding", 0.005),
    ("lacks_capacity", 0.003),
    ("no_automated_contact", 0.003),
    ("learning_disability", 0.01),
    ("cancer_pathway", 0.02),
    ("reasonable_adjustment", 0.01),
)
LANDLINE_AREAS = (
    "0113 496",
    "0114 496",
    "0116 496",
    "0117 496",
    "0121 496",
    "0131 496",
    "0141 496",
    "0151 496",
    "0161 496",
    "020 7946",
    "029 2018",
)
ETHNIC = "AAAAAAAAAAAABCDEFGHJKLMNPRSZ"
POSTCODES = ("LS1 4AP", "M1 1AE", "B1 1AA", "CF10 1AA", "BS1 4DJ", "NE1 4ST", "L1 8JQ")


class _NhsNumbers:
    """Unique valid numbers from the synthetic range 999 000 0000 - 999 999 9999."""

    def __init__(self, rng: random.Random) -> None:
        self.next_body = 999_000_000 + rng.randrange(0, 1000)

    def take(self) -> str:
        while self.next_body <= 999_999_999:
            body = str(self.next_body)
            self.next_body += 1
            check = calculate_checksum(body)
            if check != 10:
                return f"{body}{check}"
        raise ValueError("the synthetic NHS number range is exhausted (~900,000 patients)")


def _phone(rng: random.Random, mobile: bool) -> str:
    n = rng.randrange(1000)
    if mobile:
        forms: tuple[str, ...] = (
            f"07700 900{n:03d}",
            f"+44 7700 900{n:03d}",
            f"07700900{n:03d}",
            f"+44 (0)7700 900{n:03d}",
        )
    else:
        code, local = rng.choice(LANDLINE_AREAS).split()
        forms = (f"{code} {local} {n:04d}", f"({code}) {local} {n:04d}", f"{code}{local}{n:04d}")
    return rng.choice(forms)


def _date(rng: random.Random, value: dt.date) -> str:
    # Most PAS exports write ISO dates; Excel round trips write DD/MM/YYYY.
    return value.strftime("%d/%m/%Y") if rng.random() < 0.2 else value.isoformat()


def _patient_rows(rng: random.Random, numbers: _NhsNumbers, as_of: dt.date) -> Iterator[list[str]]:
    specialty = rng.choices(SPECIALTIES, _WEIGHTS)[0]
    if specialty.children:
        age_days = rng.randrange(30, 18 * 365 - 30)
    else:
        age = min(max(rng.gauss(specialty.mean_age, specialty.sd_age), 18.2), 100)
        age_days = int(age * 365.25)
    born = as_of - dt.timedelta(days=age_days)
    mobile = _phone(rng, True) if rng.random() < 0.8 else ""
    landline = (
        _phone(rng, False) if (not mobile and rng.random() < 0.75) or rng.random() < 0.2 else ""
    )
    flags: list[str] = []
    codes: list[str] = []
    if not specialty.children and age_days > 60 * 365 and rng.random() < 0.06:
        if rng.random() < 0.5:
            flags.append(rng.choice(("dementia", "cognitive_impairment")))
        else:
            codes.append(rng.choice(DEMENTIA_CODES))
    flags += [flag for flag, p in OTHER_FLAGS if rng.random() < p]
    death = ""
    if rng.random() < 0.002:
        flags.append("deceased")
        death = _date(rng, as_of - dt.timedelta(days=rng.randrange(1, 90)))
    language = rng.choices(("en", "cy", "pl", "ur", "pa"), (95, 2, 1, 1, 1))[0]
    sex = "2" if specialty.female_only else rng.choice("12")
    patient = [
        numbers.take(),
        rng.choice(GIVEN),
        rng.choice(FAMILY),
        _date(rng, born),
        mobile,
        landline,
    ]
    demographics = [
        str(rng.randint(1, 10)),
        sex,
        rng.choice(ETHNIC),
        language,
        "Y" if language != "en" and rng.random() < 0.5 else "N",
        rng.choice(POSTCODES),
    ]
    for _ in range(2 if rng.random() < 0.12 else 1):
        clock_start = as_of - dt.timedelta(days=rng.randrange(1, 730))
        yield [
            *patient[:1],
            "",  # pathway id, filled by the caller
            *patient[1:],
            specialty.code,
            specialty.name,
            _date(rng, clock_start),
            f"P{rng.choices('123456', (2, 8, 30, 50, 5, 5))[0]}",
            "ORTT",
            *demographics,
            ";".join(flags),
            ";".join(codes),
            death,
        ]


# Each defect is (column, bad value): one per deliberately bad row.
DEFECTS = (
    ("nhs_number", "999 000 0019"),
    ("date_of_birth", "03/14/1956"),
    ("clock_start_date", "2999-01-01"),
    ("given_name", ""),
    ("family_name", '=HYPERLINK("http://example.invalid")'),
    ("specialty_code", "11"),
    ("imd_decile", "11"),
    ("flags", "dementa"),
    ("priority", "P9"),
)


# With ``showcase``: the first plain patients (adult, English, a mobile, no flag) become these,
# so that a small file still holds every routing to a person (app/demo.py relies on it).
SHOWCASE: tuple[dict[str, str], ...] = (
    {"preferred_language": "pl"},  # no approved Polish script: a language task
    {"preferred_language": "ur", "interpreter_required": "Y"},  # rule interpreter_required
    {"preferred_language": "cy"},  # hears the Welsh script
    {"flags": "learning_disability"},
    {"flags": "reasonable_adjustment"},
    {"flags": "cancer_pathway"},
)
_CHILDREN = frozenset(s.code for s in SPECIALTIES if s.children)


def _plain(row: list[str], position: dict[str, int]) -> bool:
    """An adult who speaks English, has a mobile and no flag, code or date of death."""
    return (
        row[position["specialty_code"]] not in _CHILDREN
        and row[position["preferred_language"]] == "en"
        and bool(row[position["mobile_phone"]])
        and not any(row[position[c]] for c in ("flags", "diagnosis_codes", "date_of_death"))
    )


def write_synthetic_cohort(
    out: TextIO,
    *,
    rows: int,
    seed: int = 1,
    bad_rows: int = 0,
    as_of: dt.date,
    pathway_prefix: str = "RXX",
    showcase: bool = False,
) -> None:
    """Write ``rows`` data rows (``bad_rows`` of them with one defect each) to ``out``.

    Pathway ids are ``{pathway_prefix}-00000001`` onwards: a different prefix gives pathways that
    cannot collide with an earlier file's (the demo uses one per run). ``showcase`` makes the
    first plain patients the ``SHOWCASE`` ones (the same for a seed, whatever the dice).
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    numbers = _NhsNumbers(rng)
    # The n-th bad row gets the n-th defect, so K >= len(DEFECTS) bad rows show every defect.
    sample = sorted(rng.sample(range(rows), min(bad_rows, rows)))
    bad_lines = {line: DEFECTS[n % len(DEFECTS)] for n, line in enumerate(sample)}
    position = {name: index for index, name in enumerate(HEADER)}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    written = 0
    pending = list(SHOWCASE) if showcase else []
    while written < rows:
        patient_rows = list(_patient_rows(rng, numbers, as_of))
        lines = range(written, written + len(patient_rows))
        if pending and _plain(patient_rows[0], position) and not set(lines) & bad_lines.keys():
            for row in patient_rows:
                for column, value in pending[0].items():
                    row[position[column]] = value
            pending.pop(0)
        for row in patient_rows:
            if written == rows:
                break
            row[1] = f"{pathway_prefix}-{written + 1:08d}"
            if written in bad_lines:
                column, value = bad_lines[written]
                row[position[column]] = value
            writer.writerow(row)
            written += 1


def synthesise(
    path: Path,
    *,
    rows: int,
    seed: int = 1,
    bad_rows: int = 0,
    as_of: dt.date,
    pathway_prefix: str = "RXX",
    showcase: bool = False,
) -> None:
    """Write a synthetic cohort CSV (UTF-8) to ``path``."""
    with path.open("w", encoding="utf-8", newline="") as out:
        write_synthetic_cohort(
            out,
            rows=rows,
            seed=seed,
            bad_rows=bad_rows,
            as_of=as_of,
            pathway_prefix=pathway_prefix,
            showcase=showcase,
        )
