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
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, get_settings
from app.db import make_engine, make_session_factory, session_scope

console = Console(stderr=True)


def load_settings() -> Settings:
    """The settings, or a clear message and exit code 2 when they are invalid."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            console.print(f"[red]Invalid configuration[/red] ({where}): {error['msg']}")
        raise typer.Exit(2) from exc


@lru_cache
def session_factory() -> sessionmaker[Session]:
    """One engine per CLI process."""
    return make_session_factory(make_engine(load_settings().database_url))


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A session that commits when the command's work succeeds."""
    with session_scope(session_factory()) as session:
        yield session


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout (the ``--json`` contract)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n")
