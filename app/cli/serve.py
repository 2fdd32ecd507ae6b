"""``waitlist serve``: the web app under uvicorn."""

from __future__ import annotations

import typer
import uvicorn

from app.cli.common import load_settings
from app.logging import configure_logging
from app.main import create_app


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
) -> None:
    """Run the web app (pages, API and Twilio webhooks)."""
    settings = load_settings()
    configure_logging(level=settings.log_level, json_lines=settings.log_format == "json")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        # No "Server: uvicorn": it tells an attacker which server (and which advisories) to try.
        server_header=False,
    )
