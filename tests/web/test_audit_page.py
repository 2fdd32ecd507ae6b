from __future__ import annotations

import re

import httpx
from sqlalchemy.orm import Session

from app import audit
from app.models import AuditEvent
from tests.support.factories import make_pathway
from tests.support.users import Personas
from tests.support.web import sign_in


def _rows(html: str) -> list[str]:
    return re.findall(r"Actor </span>([^<]*)</td>", html)


async def test_admins_filter_the_trail_by_actor_action_and_pathway(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    pathway = make_pathway(db_session)
    audit.record(
        db_session,
        actor=personas["alice"],
        action="pathway_viewed",
        entity_type="pathway",
        entity_id=pathway.id,
        pathway_id=pathway.id,
    )
    audit.record(
        db_session, actor=personas["bob"], action="campaign_started", entity_type="campaign"
    )
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    by_pathway = await page_client.get("/audit", params={"pathway": str(pathway.id)})
    assert by_pathway.status_code == 200
    assert _rows(by_pathway.text) == ["alice"]
    by_actor = await page_client.get("/audit", params={"actor": "bob"})
    assert _rows(by_actor.text) == ["bob"]
    by_action = await page_client.get("/audit", params={"action": "sign_in"})
    assert set(_rows(by_action.text)) == {"charlie"}


async def test_the_trail_pages_backwards_without_repeating_a_row(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    for n in range(120):
        audit.record(db_session, actor="system", action="tick", entity_type="test", entity_id=n)
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    seen: list[str] = []
    url: str | None = "/audit?action=tick"
    while url:
        response = await page_client.get(url)
        seen += re.findall(r"</span>test (\d+)</td>", response.text)
        older = re.search(r'href="(/audit\?[^"]+)"', response.text)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [str(n) for n in reversed(range(120))]


async def test_a_pathway_filter_that_is_not_a_number_says_so(
    page_client: httpx.AsyncClient, personas: Personas
) -> None:
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    response = await page_client.get("/audit", params={"pathway": "abc"})
    assert response.status_code == 200
    assert "Pathway must be a number" in response.text


async def test_reading_the_trail_is_itself_audited(
    page_client: httpx.AsyncClient, personas: Personas, db_session: Session
) -> None:
    await sign_in(page_client, "charlie", personas.passwords["charlie"])
    await page_client.get("/audit", params={"actor": "alice"})
    viewed = db_session.query(AuditEvent).filter_by(action="audit_viewed").one()
    assert viewed.actor == "charlie"
    assert viewed.detail["actor"] == "alice"
