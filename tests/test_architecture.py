"""The architecture contract (`.importlinter`) holds, and it would catch a room that breaks it."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is in the test extra: pip install -e '.[test]'"
)


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_of_the_project(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "app", tree / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tree / ".importlinter")
    return tree


def test_the_project_keeps_its_architecture_contract(tmp_path: Path) -> None:
    result = _lint_imports(_copy_of_the_project(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("app/review/planted.py", "import fastapi\n", "Domain packages know nothing of HTTP"),
        ("app/campaigns/planted.py", "import twilio\n", "Only app.telephony imports twilio"),
        (
            "app/telephony/planted.py",
            "from app.models import ContactAttempt\n",
            "app.telephony imports no domain package",
        ),
        ("app/models/planted.py", "import app.review\n", "app.models imports no behaviour"),
        ("app/reports/planted.py", "import app.web\n", "nothing below imports"),
        # A late import is an import: the cycle cohort <-> eligibility would be back.
        ("app/eligibility/planted.py", "def f():\n    import app.cohort.values\n", "No cycles"),
        ("app/eligibility/planted.py", "from app.cohort import values\n", "No cycles"),
    ],
)
def test_a_planted_violation_fails_the_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = _copy_of_the_project(tmp_path)
    (tree / module).write_text(line, encoding="utf-8")

    result = _lint_imports(tree)

    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


# Twilio's own words: its form fields and the status words it uses (and we do not).
TWILIO_WORDS = re.compile(
    r"[\"'](CallStatus|CallSid|MessageStatus|MessageSid|OptOutType|SpeechResult|Digits|"
    r"AnsweredBy|SequenceNumber|no-answer|in-progress|undelivered|canceled)[\"']"
)


def test_twilios_words_stop_at_the_telephony_door() -> None:
    """Only app/telephony reads a Twilio form or status word; everything else gets typed events."""
    spoken = [
        f"{path.relative_to(ROOT)}: {match.group(1)}"
        for path in sorted((ROOT / "app").rglob("*.py"))
        if "telephony" not in path.relative_to(ROOT / "app").parts
        for match in TWILIO_WORDS.finditer(path.read_text(encoding="utf-8"))
    ]
    assert spoken == []


def test_one_webhook_turn_visits_the_dialogue_once() -> None:
    """The webhook handlers ask the dialogue for a turn (``take_turn``) and render what it
    returns; loading the subject, answering and replaying are the dialogue's own business."""
    source = (ROOT / "app" / "conversations" / "webhooks.py").read_text(encoding="utf-8")
    used = {
        node.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "dialogue"
    }
    assert used == {"take_turn", "Turn", "Spoken", "Replay", "MachineOnly"}
