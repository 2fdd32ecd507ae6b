"""Fixtures: a migrated database per run, a rolled-back transaction per test, an ASGI client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.schema import upgrade
from app.web.deps import get_session
from tests.support import attempt_writes
from tests.support.browser import CHROMIUM_ARGS, LiveServer, chromium_or_skip, run_live_server
from tests.support.databases import fresh_database
from tests.support.settings import make_settings
from tests.support.users import Personas, make_personas

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

attempt_writes.install()


@pytest.fixture(autouse=True)
def _attempt_status_written_only_through_attempts() -> Iterator[None]:
    """Fail a test whose code wrote an attempt's status but through ``app/attempts.py``."""
    attempt_writes.strays.clear()
    yield
    strays, attempt_writes.strays[:] = list(attempt_writes.strays), []
    assert not strays, f"attempt status written outside app/attempts.py: {strays}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database built by running the migrations (never ``create_all``)."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        upgrade(url, MIGRATIONS)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine for the migrated test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def committed_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of the test's own, where commits are real (for concurrency tests)."""
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS)
        committed = make_engine(url)
        yield committed
        committed.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings pointing at the migrated database."""
    return make_settings(database_url)


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Commits made by the code under test release savepoints, so they behave like commits inside
    the test but leave nothing behind for the next one.
    """
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(settings: Settings, db_session: Session) -> Iterator[FastAPI]:
    """The real app, with its request sessions joined to the test's transaction."""
    application = create_app(settings)

    def test_session() -> Iterator[Session]:
        # What the test arranged before the request is committed, as it would be in real life;
        # otherwise a request that fails (a 401, a 403) would roll the arranged data back.
        db_session.commit()
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise

    application.dependency_overrides[get_session] = test_session
    yield application
    # ASGITransport runs no lifespan, so the app's own engine is disposed here.
    application.state.engine.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process over ASGI."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def personas(db_session: Session) -> Personas:
    """alice (clinician), bob (coordinator), charlie (admin), dave (deactivated), in this test."""
    return make_personas(db_session)


@pytest.fixture
async def page_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client for pages over https, so it keeps the Secure session cookie like a browser."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The real app under uvicorn on a loopback port, over a committed database with personas."""
    with run_live_server(tmp_path) as server:
        yield server


@pytest.fixture
def browser_page() -> Iterator[Page]:
    """A page in headless Debian Chromium (skips with install advice when it is missing)."""
    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context()
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
