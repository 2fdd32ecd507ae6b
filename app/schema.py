"""Schema migrations: apply them, and tell whether a database is current."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.db import READ_ONLY


def alembic_config(database_url: str, migrations_path: Path) -> Config:
    """An Alembic configuration for this database, without needing an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(migrations_path))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, migrations_path: Path, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(database_url, migrations_path), revision)


def downgrade(database_url: str, migrations_path: Path, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    command.downgrade(alembic_config(database_url, migrations_path), revision)


@lru_cache
def head_revisions(migrations_path: Path) -> frozenset[str]:
    """The revisions a current database is at (read once per process)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://", migrations_path))
    return frozenset(script.get_heads())


@dataclass(frozen=True)
class Readiness:
    """Whether the database can serve requests, and if not, why."""

    ready: bool
    reason: str


def check_readiness(engine: Engine, migrations_path: Path) -> Readiness:
    """Database reachable and at the head revision."""
    try:
        with engine.connect().execution_options(**READ_ONLY) as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return Readiness(False, f"database unreachable: {type(exc).__name__}")
    expected = head_revisions(migrations_path)
    if not current:
        return Readiness(False, "database has no schema: run 'waitlist db upgrade'")
    if current != expected:
        return Readiness(
            False,
            f"database at {', '.join(sorted(current))}, code expects {', '.join(sorted(expected))}:"
            " run 'waitlist db upgrade'",
        )
    return Readiness(True, "ready")
