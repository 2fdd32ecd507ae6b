"""Dependencies shared by routes: settings and the request-scoped database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from anyio import CapacityLimiter
from anyio.to_thread import run_sync
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.eligibility.rules import RuleSet


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request: committed when the route succeeds, rolled back otherwise.

    Declared with ``scope="function"`` so the commit happens before the response is sent: a
    webhook must never be acknowledged for data that was not committed.

    Opening a session does no I/O (the connection is taken at the first statement), so it happens
    here on the event loop; only the commit (or rollback) and close go to a thread, in one hop
    instead of a sync generator's two. That hop has a limiter of its own, as Starlette gives a
    sync generator's exit: a commit must never queue behind requests that hold every threadpool
    token while they wait for the lock (SQLite's writer) that this commit would release.

    A route that has committed in its own thread (the webhooks do: a national day is about
    700,000 of them) leaves no transaction open, so there is nothing to commit and closing does
    no I/O: that is done here, without a second hop.
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
    except BaseException:
        await run_sync(_end, session, False, limiter=CapacityLimiter(1))
        raise
    if not session.in_transaction():
        session.close()
        return
    await run_sync(_end, session, True, limiter=CapacityLimiter(1))


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_exclusion_rules(request: Request) -> RuleSet:
    """The exclusion rules loaded (and validated) when the app started."""
    rules: RuleSet = request.app.state.exclusion_rules
    return rules


ExclusionRulesDep = Annotated[RuleSet, Depends(get_exclusion_rules)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
