from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.errors import DomainError
from app.main import create_app
from tests.support.databases import fresh_database
from tests.support.settings import make_settings


async def test_healthz_says_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_says_why_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        app = create_app(make_settings(url))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/readyz")
        app.state.engine.dispose()
    assert response.status_code == 503
    assert "waitlist db upgrade" in response.json()["reason"]


async def test_every_response_carries_a_request_id_and_security_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_the_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert "/readyz" in response.json()["paths"]


def test_a_broken_exclusion_rule_file_stops_the_app_at_start(
    tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(DomainError, match=r"broken\.yaml"):
        create_app(make_settings(database_url, exclusions_dir=tmp_path))
