"""The real app under uvicorn for browser tests, and a headless Chromium to drive it.

Debian's chromium is used through Playwright's ``executable_path`` (no browser download). Where
it is missing, browser tests skip with how to install it, except under CI (``CI`` set), where a
missing browser fails the run: a skipped browser test proves nothing.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, make_session_factory, session_scope
from app.main import create_app
from app.schema import upgrade
from tests.support.databases import fresh_database
from tests.support.settings import make_settings
from tests.support.users import make_personas

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@dataclass(frozen=True)
class LiveServer:
    """A running app: its URL, a way to reach its database, and the personas' passwords."""

    base_url: str
    settings: Settings
    session_factory: sessionmaker[Session]
    passwords: dict[str, str]

    def url(self, path: str) -> str:
        """An absolute URL on this server."""
        return self.base_url + path


@contextmanager
def run_live_server(directory: Path, *, port: int = 0, **overrides: Any) -> Iterator[LiveServer]:
    """Migrate a fresh database, add the personas, and serve the app on a loopback port (a free
    one unless ``port`` is given)."""
    with fresh_database(directory) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with session_scope(factory) as session:
            personas = make_personas(session)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        port = sock.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        settings = make_settings(url, public_base_url=base_url, **overrides)
        app = create_app(settings)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the live server did not start")
                time.sleep(0.02)
            yield LiveServer(
                base_url=base_url,
                settings=settings,
                session_factory=factory,
                passwords=personas.passwords,
            )
        finally:
            server.should_exit = True
            thread.join(timeout=20)
            sock.close()
            engine.dispose()


def chromium_or_skip() -> str:
    """The browser's path; skip (or fail under CI) when it is not installed."""
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    message = "Chromium is not installed: run `apt-get install chromium` to run browser tests"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so a missing browser is a failure)")
    pytest.skip(message)


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Sign in through the real form, as a person would, and wait for the next page."""
    page.goto(base_url + "/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
