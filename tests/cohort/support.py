"""Writing small cohort files for tests."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "nhs_number,pathway_id,given_name,family_name,date_of_birth,mobile_phone,specialty_code,"
    "clock_start_date,priority,imd_decile,flags"
)
ADA = "999 000 0018,RXN-000001,Ada,Testpatient,1956-03-14,07700 900001,110,2025-01-06,P4,3,"
BEN = "9990000026,RXN-000002,Ben,Testpatient,2015-07-30,07700 900002,120,2025-02-11,P3,7,"
CARA = (
    "9990000034,RXN-000003,Cara,Testpatient,1938-11-02,+447700900003,110,2024-09-19,P4,1,dementia"
)


def write_csv(path: Path, *lines: str, encoding: str = "utf-8", header: str = HEADER) -> Path:
    """A cohort file with ``header`` and ``lines``."""
    path.write_bytes(("\n".join((header, *lines)) + "\n").encode(encoding))
    return path
