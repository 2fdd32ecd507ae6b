"""Dependencies shared by routes: settings and the request-scoped database session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.eligibility.rules import RuleSet


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the route succeeds, rolled back otherwise.

    Declared with ``scope="function"`` so the commit happens before the response is sent: a
    webhook must never be acknowledged for data that was not committed.
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
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
