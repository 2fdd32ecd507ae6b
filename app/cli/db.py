"""``waitlist db``: database schema commands."""

from __future__ import annotations

import typer

from app import schema
from app.cli.common import console, load_settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations to the configured database."""
    settings = load_settings()
    schema.upgrade(settings.database_url, settings.migrations_path, revision)
    console.print(f"Database at {revision}.")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Revert migrations (for developers; take a backup first)."""
    settings = load_settings()
    schema.downgrade(settings.database_url, settings.migrations_path, revision)
    console.print(f"Database at {revision}.")
