from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import LoginAttempt
from tests.support.users import Personas
from tests.support.web import sign_in


async def test_repeated_failures_lock_the_account_then_it_unlocks(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    for _ in range(5):
        response = await sign_in(page_client, "alice", "not the right password")
        assert response.status_code == 200
    locked = await sign_in(page_client, "alice", personas.passwords["alice"])
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.text
    assert (await page_client.get("/")).status_code == 303
    # Sixteen minutes later the failures no longer count.
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    db_session.execute(update(LoginAttempt).values(at=earlier))
    response = await sign_in(page_client, "alice", personas.passwords["alice"])
    assert response.status_code == 303
    assert (await page_client.get("/")).status_code == 200
