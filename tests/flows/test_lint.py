"""The linter catches each defect in a purpose-made broken script, and passes the shipped ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.flows.lint import lint_paths
from tests.flows.conftest import BROKEN, MINIMAL, SHIPPED

# Each broken script, and words that must appear in the problem it causes.
EXPECTED = {
    "unknown_key": ("condition", "unknown key 'retires'"),
    "wrong_type": ("identity", "expected a whole number"),
    "unknown_next": ("condition", "leads to 'stayin', which is not a step"),
    "unreachable": ("orphan", "cannot be reached from start"),
    "no_end": ("again", "has no path to an end step"),
    "unbounded_loop": ("condition", "loop with no bound (condition -> condition)"),
    "duplicate_keypad_key": ("condition", "keypad key 1 is used by more than one option"),
    "overlapping_words": ("condition", "options 1 and 2 share words ('worse' / 'much worse')"),
    "missing_safety_net": ("worsened", "reaches this worsened end without the safety net"),
    "safety_net_on_one_path_only": ("worsened", "without the safety net"),
    "safety_net_without_999": (None, "does not mention both NHS 111 and 999"),
    "detail_before_verify": ("hello", "patient details (specialty_name)"),
    "name_before_verify": ("hello", "patient details (given_name)"),
    "undefined_variable": ("not_verified", "unknown variable(s) nhs_number"),
    "sms_too_long": ("condition", "3 GSM-7 segments"),
    "welsh_letters_force_ucs2": ("condition", "3 UCS-2 segments"),
    "sms_names_specialty": ("condition", "sms text names the specialty"),
    "sms_without_reply_instructions": ("condition", "has no sms text"),
    "no_voice_for_language": (None, "no known voice speaks fr-FR"),
    "voice_does_not_speak_language": (None, "voice Polly.Gwyneth does not speak en-GB"),
    "missing_phrases_for_welsh": (None, "phrases missing: no_input"),
    "duplicate_yaml_key": (None, "the key 'staying' is given twice"),
}


def test_every_broken_script_has_an_expectation() -> None:
    assert {path.stem for path in BROKEN.glob("*.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_reports_the_defect_naming_file_step_and_fix(name: str) -> None:
    path = BROKEN / f"{name}.yaml"
    step, words = EXPECTED[name]
    files, problems = lint_paths([path])
    assert files == [path]
    matching = [problem for problem in problems if words in problem.message]
    assert matching, [str(problem) for problem in problems]
    problem = matching[0]
    assert problem.file == str(path)
    assert problem.step == step
    assert problem.fix
    assert str(path) in str(problem) and "Fix:" in str(problem)


@pytest.mark.parametrize("name", ["unknown_next", "duplicate_keypad_key", "overlapping_words"])
def test_a_single_defect_gives_a_single_problem(name: str) -> None:
    _, problems = lint_paths([BROKEN / f"{name}.yaml"])
    assert len(problems) == 1


def test_the_minimal_script_the_broken_ones_start_from_is_clean() -> None:
    assert lint_paths([MINIMAL])[1] == []


def test_the_shipped_scripts_pass_lint() -> None:
    files, problems = lint_paths([SHIPPED])
    assert {file.name for file in files} == {
        "standard-validation.yaml",
        "standard-validation-cy.yaml",
    }
    assert problems == []


def test_two_scripts_with_one_id_are_refused(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    _, problems = lint_paths([tmp_path])
    assert [problem.message for problem in problems] == [
        f"uses the id 'minimal' already used by {tmp_path / 'a.yaml'}"
    ]


def test_a_negated_word_beside_its_plain_form_is_not_an_overlap() -> None:
    # minimal.yaml has "worse" on option 1 and "not worse" on option 2 and passes.
    assert "not worse" in MINIMAL.read_text(encoding="utf-8")
    assert lint_paths([MINIMAL])[1] == []
