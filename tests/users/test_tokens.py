from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInputError, NotFoundError
from app.models import ApiToken, Role
from app.users.service import deactivate_user
from app.users.tokens import issue_api_token, resolve_api_token, revoke_api_token
from tests.support.users import Personas, make_service_account


def test_a_token_names_its_service_account_and_is_hashed_at_rest(db_session: Session) -> None:
    account = make_service_account(db_session, username="pas", role=Role.COORDINATOR)
    issued = issue_api_token(db_session, user=account, name="PAS nightly extract")
    assert issued.value.startswith("wl_")
    assert resolve_api_token(db_session, value=issued.value) is account
    stored = db_session.scalars(select(ApiToken.token_hash)).all()
    assert issued.value not in stored


def test_a_revoked_token_stops_working_and_cannot_be_revoked_twice(db_session: Session) -> None:
    account = make_service_account(db_session, username="pas", role=Role.COORDINATOR)
    issued = issue_api_token(db_session, user=account, name="PAS nightly extract")
    revoke_api_token(db_session, token_id=issued.record.id)
    assert resolve_api_token(db_session, value=issued.value) is None
    with pytest.raises(NotFoundError):
        revoke_api_token(db_session, token_id=issued.record.id)


def test_a_deactivated_account_s_tokens_stop_working(db_session: Session) -> None:
    account = make_service_account(db_session, username="pas", role=Role.COORDINATOR)
    issued = issue_api_token(db_session, user=account, name="PAS nightly extract")
    deactivate_user(db_session, user=account)
    assert resolve_api_token(db_session, value=issued.value) is None


def test_people_sign_in_rather_than_hold_tokens(db_session: Session, personas: Personas) -> None:
    with pytest.raises(InvalidInputError, match="service accounts"):
        issue_api_token(db_session, user=personas["alice"], name="laptop script")
