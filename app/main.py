"""The application factory: settings, database, routers and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.config import Settings, get_settings
from app.conversations.context import ConversationContext
from app.db import engine_for, make_session_factory
from app.eligibility.rules import load_rules
from app.flows import load_registry
from app.telephony.factory import notify_provider
from app.web import api, health, metrics, pages, webhooks
from app.web.auth import identity_provider_origins
from app.web.errors import install_auth_handlers, install_error_handlers
from app.web.metrics import Metrics
from app.web.middleware import RequestContextMiddleware

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app; everything it needs is created here, nothing at import time."""
    settings = settings or get_settings()
    engine = engine_for(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="Waiting list validation",
        version=__version__,
        description="Automated, clinically approved contact with elective waiting-list patients.",
        lifespan=lifespan,
        # Exact paths only: a redirect on a Twilio action URL would drop the caller's Digits.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    # Scripts are parsed once here: a webhook must answer in milliseconds, without file reads.
    app.state.conversation_context = ConversationContext(
        registry=load_registry(settings.flows_path),
        public_base_url=settings.public_base_url,
        organisation_name=settings.organisation_name,
        callback_number=settings.callback_number,
    )
    # Answers to texts that came through Notify are sent by the web app (Twilio's go in TwiML).
    app.state.notify = notify_provider(settings)
    # Exclusion rules too: a bad rule file stops the app at start, not at the first upload.
    app.state.exclusion_rules = load_rules(settings.exclusions_path)
    install_error_handlers(app)
    install_auth_handlers(app)
    app.state.metrics = Metrics()
    app.add_middleware(
        RequestContextMiddleware,
        observe=app.state.metrics.observer(),
        form_action=identity_provider_origins(settings),
    )
    # Webhooks first: they are most of the traffic, and routes are matched in order.
    app.include_router(webhooks.router)
    app.include_router(webhooks.notify_router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
