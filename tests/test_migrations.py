"""Migrations are the only way the schema is built, so they are tested on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import app.models  # noqa: F401 - registers every table
from app.db import Base, make_engine
from app.schema import downgrade, head_revisions, upgrade
from tests.conftest import MIGRATIONS
from tests.support.databases import fresh_database


def test_upgrade_downgrade_upgrade_round_trip(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS)
        downgrade(url, MIGRATIONS, "base")
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with engine.connect() as connection:
            heads = set(MigrationContext.configure(connection).get_current_heads())
        assert heads == set(head_revisions(MIGRATIONS))
        engine.dispose()


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            drift = compare_metadata(context, Base.metadata)
        engine.dispose()
        assert drift == [], f"models differ from migrations; autogenerate a revision: {drift}"


def test_there_is_one_head() -> None:
    assert len(head_revisions(MIGRATIONS)) == 1
