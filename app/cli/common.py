"""What every command shares: settings, a session factory, and output as text or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, get_settings
from app.db import engine_for, make_session_factory, session_scope
from app.schema import check_readiness

# Human-readable results go to stdout (so `| head` and `> file` get them); diagnostics, errors
# and progress bars go to stderr, and --json documents alone to stdout.
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one message, one line: never wrapped


def load_settings() -> Settings:
    """The settings, or a clear message and exit code 2 when they are invalid."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            errors.print(f"[red]Invalid configuration[/red] ({where}): {error['msg']}")
        raise typer.Exit(2) from exc


@lru_cache
def engine() -> Engine:
    """One engine per CLI process."""
    return engine_for(load_settings())


@lru_cache
def session_factory() -> sessionmaker[Session]:
    """Sessions on the process's one engine."""
    return make_session_factory(engine())


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A session that commits when the command's work succeeds."""
    with session_scope(session_factory()) as session:
        yield session


def require_schema() -> None:
    """Stop with one line, not a traceback, when the database is not migrated to the code's head."""
    settings = load_settings()
    readiness = check_readiness(engine(), settings.migrations_path)
    if not readiness.ready:
        errors.print(f"[red]The database is not ready[/red]: {readiness.reason}", highlight=False)
        raise typer.Exit(2)


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout (the ``--json`` contract)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n")
