"""Setting Notify up: settings refused with reasons, the provider wiring, the rate budget, and
the campaign's choice of SMS provider."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import MetaData, insert, text
from sqlalchemy.orm import Session

from app.campaigns import service
from app.campaigns.dispatcher import DispatchConfig, DueClaim, account_limit
from app.campaigns.runtime import sms_accounts, stale_call_after
from app.campaigns.scheduled import STALE_CALL
from app.config import Settings
from app.db import make_engine
from app.errors import InvalidInputError
from app.models import Channel, Role
from app.schema import upgrade
from app.telephony.factory import build_provider
from app.telephony.personas import Directory
from app.telephony.routing import ChannelRouter
from app.telephony.simulator import SimulatorProvider
from tests.conftest import MIGRATIONS
from tests.support.databases import fresh_database
from tests.support.factories import make_cohort
from tests.support.notify_server import API_KEY, SERVICE_ID, TEMPLATES
from tests.support.settings import make_settings
from tests.support.telephony import validation_script
from tests.web.test_campaign_api import bearer

NOTIFY: dict[str, Any] = {
    "notify_api_key": SecretStr(API_KEY),
    "notify_templates": TEMPLATES,
    "notify_callback_token": SecretStr("a-bearer-token-of-some-length"),
}


def test_notify_needs_its_templates_and_callback_token_and_says_so() -> None:
    with pytest.raises(ValidationError) as raised:
        make_settings("sqlite://", notify_api_key=SecretStr(API_KEY))
    message = str(raised.value)
    assert "WAITLIST_NOTIFY_TEMPLATES" in message and "WAITLIST_NOTIFY_CALLBACK_TOKEN" in message


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"notify_api_key": SecretStr("just-a-secret")}, "WAITLIST_NOTIFY_API_KEY"),
        ({"notify_templates": {"opening": TEMPLATES["opening"]}}, "WAITLIST_NOTIFY_TEMPLATES"),
        ({"notify_templates": {"default": "not-a-uuid"}}, "UUIDs"),
        ({"notify_callback_token": SecretStr("short")}, "WAITLIST_NOTIFY_CALLBACK_TOKEN"),
        ({"notify_base_url": "http://notify.example.org"}, "WAITLIST_NOTIFY_BASE_URL"),
    ],
)
def test_a_bad_notify_setting_is_refused_with_its_name(
    overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        make_settings("sqlite://", **(NOTIFY | overrides))
    assert named in str(raised.value)


def test_texting_through_notify_by_default_needs_a_key() -> None:
    with pytest.raises(ValidationError) as raised:
        make_settings("sqlite://", sms_provider="notify")
    assert "WAITLIST_NOTIFY_API_KEY" in str(raised.value)


def test_templates_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAITLIST_NOTIFY_API_KEY", API_KEY)
    monkeypatch.setenv("WAITLIST_NOTIFY_TEMPLATES", f'{{"default": "{TEMPLATES["reply"]}"}}')
    monkeypatch.setenv("WAITLIST_NOTIFY_CALLBACK_TOKEN", "a-bearer-token-of-some-length")
    monkeypatch.setenv("WAITLIST_SMS_PROVIDER", "notify")
    settings = Settings()
    assert settings.notify_templates == {"default": TEMPLATES["reply"]}
    assert settings.sms_providers == ("telephony", "notify")


def test_the_default_deployment_is_the_simulator_alone_and_notify_sits_beside_it() -> None:
    nobody: Directory = lambda phone: None  # noqa: E731 - the simulator's people: none here
    assert isinstance(
        build_provider(make_settings("sqlite://"), directory=nobody), SimulatorProvider
    )
    routed = build_provider(make_settings("sqlite://", **NOTIFY), directory=nobody)
    assert isinstance(routed, ChannelRouter)
    assert isinstance(routed.voice, SimulatorProvider)
    assert set(routed.sms) == {"telephony", "notify"}
    # A simulated call settles as soon as the simulator's longest call is over, Notify or not.
    assert stale_call_after(routed) == stale_call_after(routed.voice) < STALE_CALL


def test_texts_through_notify_draw_on_notifys_budget_and_calls_on_the_accounts() -> None:
    accounts = sms_accounts(make_settings("sqlite://", **NOTIFY, notify_messages_per_minute=3000))
    assert accounts == {"notify": (f"notify:{SERVICE_ID}", 50.0)}
    config = DispatchConfig(
        worker_id="w", account_key="twilio:AC1", account_calls_per_second=1, sms_accounts=accounts
    )

    def claim(channel: Channel, via: str) -> DueClaim:
        return DueClaim(1, 1, 1, 1.0, channel=channel, sms_provider=via)

    assert account_limit(config, claim(Channel.SMS, "notify")) == (f"notify:{SERVICE_ID}", 50.0)
    assert account_limit(config, claim(Channel.SMS, "telephony")) == ("twilio:AC1", 1)
    assert account_limit(config, claim(Channel.VOICE, "notify")) == ("twilio:AC1", 1)


def create(session: Session, **fields: Any) -> Any:
    cohort = make_cohort(session)
    values: dict[str, Any] = {
        "name": "Texts by Notify",
        "cohort_id": cohort.id,
        "call_script_id": validation_script(session).id,
        "provider_name": "twilio",
        "account_calls_per_second": 1.0,
        "timezone": "Europe/London",
        "created_by": "test",
    }
    return service.create_campaign(session, **(values | fields))


def test_a_campaign_may_text_through_notify_only_where_it_is_configured(
    db_session: Session,
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        create(db_session, sms_provider="notify")
    assert raised.value.field == "sms_provider" and "not configured" in str(raised.value)
    with pytest.raises(InvalidInputError):
        create(
            db_session,
            sms_provider="notify",
            sms_providers=("telephony", "notify"),
            simulated=True,
            provider_name="simulator",
        )
    campaign = create(db_session, sms_provider="notify", sms_providers=("telephony", "notify"))
    assert campaign.sms_provider == "notify"
    assert create(db_session).sms_provider == "telephony"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, **NOTIFY)


async def test_the_api_creates_a_campaign_that_texts_through_notify(
    client: httpx.AsyncClient, db_session: Session
) -> None:
    cohort = make_cohort(db_session)
    headers = bearer(db_session, Role.COORDINATOR)
    db_session.commit()
    body = {"name": "Spring", "cohort_id": cohort.id, "flow_id": "standard-validation"}

    chosen = await client.post(
        "/api/v1/campaigns", json=body | {"sms_provider": "notify"}, headers=headers
    )
    default = await client.post("/api/v1/campaigns", json=body, headers=headers)
    unknown = await client.post(
        "/api/v1/campaigns", json=body | {"sms_provider": "pigeon"}, headers=headers
    )

    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["sms_provider"] == "notify"
    assert default.json()["sms_provider"] == "telephony"
    assert unknown.status_code == 422


def test_the_migration_keeps_existing_campaigns_texting_as_before(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS, "b044c54d70b3")
        engine = make_engine(url)
        tables = MetaData()
        tables.reflect(engine, only=["cohort", "call_script", "campaign"])
        with engine.begin() as connection:
            cohorts, scripts = tables.tables["cohort"], tables.tables["call_script"]
            cohort = connection.execute(
                insert(cohorts).values(name="autumn", created_at=now).returning(cohorts.c.id)
            ).scalar_one()
            script = connection.execute(
                insert(scripts)
                .values(
                    flow_id="f",
                    version=1,
                    content_hash="h",
                    title="t",
                    language="en",
                    content="",
                    created_at=now,
                )
                .returning(scripts.c.id)
            ).scalar_one()
            connection.execute(
                insert(tables.tables["campaign"]).values(
                    name="before Notify",
                    cohort_id=cohort,
                    call_script_id=script,
                    status="running",
                    calling_windows={},
                    attempt_policy={},
                    calls_per_second=1.0,
                    simulated=False,
                    created_at=now,
                )
            )
        engine.dispose()
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with engine.connect() as connection:
            chosen = connection.execute(text("SELECT sms_provider FROM campaign")).scalars()
            assert list(chosen) == ["telephony"]
        engine.dispose()
