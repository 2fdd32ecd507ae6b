from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import UserSession
from app.users.service import deactivate_user, set_password
from app.users.sessions import SessionPolicy, end_session, resolve_session, start_session
from tests.support.users import Personas

POLICY = SessionPolicy(idle=dt.timedelta(minutes=30), absolute=dt.timedelta(hours=12))
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_only_a_hash_of_the_cookie_value_is_stored(db_session: Session, personas: Personas) -> None:
    new = start_session(db_session, user=personas["alice"], now=T0)
    stored = db_session.scalars(select(UserSession.token_hash)).all()
    assert new.token not in stored
    assert len(stored[0]) == 64


def test_a_session_works_until_it_is_idle_for_too_long(
    db_session: Session, personas: Personas
) -> None:
    new = start_session(db_session, user=personas["alice"], now=T0)
    found = resolve_session(
        db_session, token=new.token, policy=POLICY, now=T0 + dt.timedelta(minutes=29)
    )
    assert found is not None and found[0].username == "alice"
    # Each request moves the idle clock on.
    assert resolve_session(
        db_session, token=new.token, policy=POLICY, now=T0 + dt.timedelta(minutes=58)
    )
    assert (
        resolve_session(
            db_session, token=new.token, policy=POLICY, now=T0 + dt.timedelta(minutes=89)
        )
        is None
    )


def test_even_a_busy_session_ends_after_the_absolute_limit(
    db_session: Session, personas: Personas
) -> None:
    new = start_session(db_session, user=personas["alice"], now=T0)
    at = T0
    while at < T0 + dt.timedelta(hours=11, minutes=50):
        at += dt.timedelta(minutes=20)
        assert resolve_session(db_session, token=new.token, policy=POLICY, now=at)
    assert (
        resolve_session(
            db_session, token=new.token, policy=POLICY, now=T0 + dt.timedelta(hours=12, minutes=1)
        )
        is None
    )


def test_signing_out_ends_the_session(db_session: Session, personas: Personas) -> None:
    new = start_session(db_session, user=personas["alice"])
    end_session(db_session, token=new.token, actor=personas["alice"])
    assert resolve_session(db_session, token=new.token, policy=POLICY) is None


def test_a_new_password_or_deactivation_ends_every_session(
    db_session: Session, personas: Personas
) -> None:
    alices = [start_session(db_session, user=personas["alice"]) for _ in range(2)]
    bobs = start_session(db_session, user=personas["bob"])
    set_password(db_session, user=personas["alice"], password="a brand new passphrase")
    assert all(resolve_session(db_session, token=s.token, policy=POLICY) is None for s in alices)
    assert resolve_session(db_session, token=bobs.token, policy=POLICY) is not None
    deactivate_user(db_session, user=personas["bob"])
    assert resolve_session(db_session, token=bobs.token, policy=POLICY) is None


def test_an_unknown_cookie_value_is_nobody(db_session: Session, personas: Personas) -> None:
    assert resolve_session(db_session, token="made-up", policy=POLICY) is None
