"""``waitlist serve`` in a real child process, as an operator would start it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.server import free_port
from tests.support.settings import TEST_SECRET

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def waitlist_serve(database_url: str, log_path: Path) -> Iterator[str]:
    """Run ``waitlist serve`` over ``database_url`` until the block ends; yields its base URL.

    Its output goes to ``log_path`` (shown when it fails to start).
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "WAITLIST_ENVIRONMENT": "test",
        "WAITLIST_DATABASE_URL": database_url,
        "WAITLIST_SECRET_KEY": TEST_SECRET,
        "WAITLIST_PUBLIC_BASE_URL": base_url,
        # The persona admin signs in with a password alone (tests/support/settings.py).
        "WAITLIST_TOTP_REQUIRED_FOR_ADMINS": "false",
    }
    command = [str(Path(sys.executable).with_name("waitlist")), "serve", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
        try:
            _wait_until_ready(base_url, process, log_path)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    output = log_path.read_text(errors="replace")
    raise RuntimeError(f"`waitlist serve` did not start (exit {process.poll()}):\n{output}")
