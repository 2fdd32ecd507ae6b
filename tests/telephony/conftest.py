"""Telephony fixtures: a migrated database the served app and the simulator both commit to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory
from app.schema import upgrade
from tests.conftest import MIGRATIONS
from tests.support.databases import fresh_database


@pytest.fixture
def committed_factory(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        yield url, make_session_factory(engine)
        engine.dispose()
