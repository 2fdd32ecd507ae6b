"""Dispatcher tests need committed data that several sessions (and processes) can see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory
from app.schema import upgrade
from tests.support.databases import fresh_database

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture
def committed_url(tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database of its own for one test."""
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS)
        yield url


@pytest.fixture
def factory(committed_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions over that database."""
    engine = make_engine(committed_url)
    yield make_session_factory(engine)
    engine.dispose()
