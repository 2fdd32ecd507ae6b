"""The hazard log cites only tests that exist, and every hazard cites at least one.

`docs/clinical-safety.md` is read by a Clinical Safety Officer as evidence that each control is
tested; a renamed or deleted test must fail here rather than leave the log pointing at nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "clinical-safety.md"
HAZARDS = [f"H{n}" for n in range(1, 18)]
# `tests/path/test_file.py::test_name`, optionally with one parametrised case: `[case]`.
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)(?:\[([^\]`]+)\])?`")
SECTION = re.compile(r"^### (H\d+)\b", re.MULTILINE)


def read_tests_section() -> str:
    text = LOG.read_text(encoding="utf-8")
    heading = "\n## Tests\n"
    assert heading in text, "the hazard log has no '## Tests' section"
    return text.split(heading, 1)[1]


def cited_by_hazard() -> dict[str, list[tuple[str, str, str | None]]]:
    section = read_tests_section()
    starts = list(SECTION.finditer(section))
    cited: dict[str, list[tuple[str, str, str | None]]] = {}
    for here, following in zip(starts, [*starts[1:], None], strict=True):
        end = following.start() if following else len(section)
        body = section[here.end() : end]
        cited[here.group(1)] = [(m[1], m[2], m[3]) for m in REFERENCE.finditer(body)]
    return cited


def test_every_hazard_has_a_section_citing_at_least_one_test() -> None:
    cited = cited_by_hazard()
    assert list(cited) == HAZARDS
    assert [hazard for hazard in HAZARDS if not cited[hazard]] == []


@pytest.mark.parametrize(
    ("path", "name", "case"),
    [
        (path, name, case or None)
        for path, name, case in REFERENCE.findall(LOG.read_text(encoding="utf-8"))
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_cited_test_exists(path: str, name: str, case: str | None) -> None:
    file = ROOT / path
    assert file.is_file(), f"{path} does not exist"
    source = file.read_text(encoding="utf-8")
    assert re.search(rf"^\s*(async\s+)?def {name}\(", source, re.MULTILINE), (
        f"{path} defines no {name}"
    )
    if case is not None:
        # A named parametrised case must still be one of the test's cases.
        assert f'"{case}"' in source, f"{path} has no case {case!r} for {name}"
