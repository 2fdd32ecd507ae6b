"""Every benchmark and profiling script starts: a renamed function must not leave one broken.

The scripts import the app's internals by name, and no other test runs them, so a rename in
``app/`` broke ``bench_day.py`` unnoticed once; ``--help`` imports everything a run needs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import backend

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(
    path for pattern in ("bench_*.py", "profile_*.py") for path in (ROOT / "scripts").glob(pattern)
)


def test_there_are_scripts_to_check() -> None:
    assert len(SCRIPTS) >= 5


# Starting a script touches no database: once per CI run (the SQLite one) is enough.
@pytest.mark.skipif(backend() != "sqlite", reason="independent of the database; runs on SQLite")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_answers_help(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
