from __future__ import annotations

from pathlib import Path

import pytest

from app.config import SOURCE_ROOT
from app.eligibility.rules import RuleFileError, load_rules

GOOD = """
id: test_rule
description: d
clinical_owner: Dr Test
reason: "excluded: {detail}"
condition: {kind: any_flag, flags: [safeguarding]}
"""


def test_the_shipped_rules_load_and_cover_every_default_exclusion() -> None:
    rules = load_rules(SOURCE_ROOT / "exclusions")
    assert {rule.id for rule in rules.rules} == {
        "under_18",
        "dementia",
        "deceased",
        "safeguarding",
        "lacks_capacity",
        "no_automated_contact",
        "no_phone",
        "opted_out",
        "recently_contacted",
        "interpreter_required",
        "learning_disability",
        "reasonable_adjustment",
        "cancer_pathway",
    }
    assert all(rule.clinical_owner for rule in rules.rules)


def test_the_rule_set_hash_changes_when_a_rule_changes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    first = load_rules(tmp_path).hash
    (tmp_path / "a.yaml").write_text(GOOD.replace("safeguarding", "deceased"))
    assert load_rules(tmp_path).hash != first


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("any_flag", "python_eval"), "condition"),
        (("[safeguarding]", "[safegarding]"), "unknown flag"),
        (("clinical_owner: Dr Test\n", ""), "clinical_owner"),
        (("any_flag, flags: [safeguarding]", "age_under, years: 0"), "years"),
        (("any_flag, flags: [safeguarding]", "diagnosis_code, icd10: [dementia]"), "ICD-10"),
    ],
)
def test_a_bad_rule_file_fails_naming_file_rule_and_problem(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(RuleFileError) as caught:
        load_rules(tmp_path)
    message = str(caught.value)
    assert str(path) in message and "rule test_rule" in message and problem in message


def test_duplicate_rule_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(RuleFileError, match="already used"):
        load_rules(tmp_path)


def test_unparseable_yaml_is_refused_with_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("id: [unclosed")
    with pytest.raises(RuleFileError, match=r"a\.yaml"):
        load_rules(tmp_path)
