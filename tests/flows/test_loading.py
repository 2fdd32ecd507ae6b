"""Loading scripts: schema messages, YAML traps, and a registry that refuses broken files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.errors import NotFoundError
from app.flows import FlowError, load_registry, load_script
from app.flows.loading import parse_flow
from tests.flows.conftest import BROKEN, MINIMAL


def test_the_registry_refuses_to_load_a_broken_script(tmp_path: Path) -> None:
    shutil.copy(MINIMAL, tmp_path / "minimal.yaml")
    shutil.copy(BROKEN / "unknown_next.yaml", tmp_path / "other.yaml")
    with pytest.raises(FlowError) as refused:
        load_registry(tmp_path)
    (problem,) = refused.value.problems
    assert problem.file == str(tmp_path / "other.yaml")
    assert problem.step == "condition"
    assert "Fix: name an existing step (did you mean 'staying'?)" in str(refused.value)


def test_the_registry_finds_scripts_by_id(tmp_path: Path) -> None:
    shutil.copy(MINIMAL, tmp_path / "minimal.yaml")
    registry = load_registry(tmp_path)
    assert [script.id for script in registry.all()] == ["minimal"]
    with pytest.raises(NotFoundError, match="No call script with id 'other'"):
        registry.get("other")


def test_a_missing_key_names_what_to_add(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = MINIMAL.read_text(encoding="utf-8")
    path.write_text(text.replace("    on_no_answer: unclear\n", ""), encoding="utf-8")
    _, _, _, problems = parse_flow(path)
    (problem,) = problems
    assert (problem.step, problem.message, problem.fix) == (
        "condition",
        "'on_no_answer' is missing",
        "add `on_no_answer:`",
    )


def test_a_step_without_a_kind_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = MINIMAL.read_text(encoding="utf-8")
    path.write_text(text.replace("    end: stay\n", "    ending: stay\n"), encoding="utf-8")
    _, _, _, problems = parse_flow(path)
    # With its closing words left, the step reads as a say step that lacks next.
    assert [(p.step, p.message) for p in problems] == [
        ("staying", "'next' is missing"),
        ("staying", "unknown key 'ending'"),
    ]
    path.write_text(text.replace("    end: stay\n    say: Thank you.\n", "    ending: stay\n"))
    _, _, _, problems = parse_flow(path)
    assert [(p.step, p.message) for p in problems] == [
        ("staying", "has no say, ask, verify or end key")
    ]


def test_an_unsupported_spec_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL.read_text(encoding="utf-8").replace("spec: 1", "spec: 2"), "utf-8")
    _, _, _, problems = parse_flow(path)
    assert [(p.step, p.message, p.fix) for p in problems] == [
        (
            None,
            "spec 2 is not a schema version this service reads",
            "write the script for spec 1 (see docs/call-flows.md)",
        )
    ]


def test_unquoted_yes_and_no_stay_words(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = MINIMAL.read_text(encoding="utf-8").replace("words: [same,", "words: [no, off, same,")
    text = text.replace("words: [worse, yes]", "words: [yes, on, worse]")
    path.write_text(text, encoding="utf-8")
    script = load_script(path)
    condition = script.flow.steps["condition"]
    assert condition.options[0].words == ["yes", "on", "worse"]  # type: ignore[union-attr]
    assert condition.options[1].words[:2] == ["no", "off"]  # type: ignore[union-attr]
