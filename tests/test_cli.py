from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_waitlist(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process, as an operator would."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WAITLIST_")}
    environment["PYTHONPATH"] = str(ROOT)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_upgrade_creates_the_sqlite_database_in_an_empty_directory(tmp_path: Path) -> None:
    result = run_waitlist("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "waitlist.db").exists()


def test_invalid_settings_exit_with_a_clear_message(tmp_path: Path) -> None:
    result = run_waitlist("db", "upgrade", cwd=tmp_path, env={"WAITLIST_ENVIRONMENT": "production"})
    assert result.returncode == 2
    assert "WAITLIST_SECRET_KEY" in result.stderr
