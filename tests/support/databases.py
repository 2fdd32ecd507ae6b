"""Fresh, empty databases for tests: a SQLite file, or a throwaway PostgreSQL database.

The suite runs on SQLite unless ``WAITLIST_TEST_DATABASE_URL`` names a PostgreSQL server; then
every database a test needs is created on that server and dropped afterwards, so runs never see
each other's rows. If the variable is set and the server cannot be reached, tests fail loudly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

TEST_DATABASE_ENV = "WAITLIST_TEST_DATABASE_URL"


def backend() -> str:
    """``sqlite`` or ``postgresql``: which database this test run targets."""
    url = os.environ.get(TEST_DATABASE_ENV)
    return make_url(url).get_backend_name() if url else "sqlite"


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """Yield the URL of a new empty database; remove it afterwards."""
    server = os.environ.get(TEST_DATABASE_ENV)
    if not server:
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    url = make_url(server)
    name = f"waitlist_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
