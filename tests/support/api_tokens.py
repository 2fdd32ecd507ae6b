"""A bearer token for each role, issued through the real service to service accounts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Role
from app.users.tokens import issue_api_token
from tests.support.users import make_service_account


def tokens_by_role(session: Session) -> dict[Role, str]:
    """One service account per role (``<role>-job``) and its token, flushed in ``session``."""
    tokens: dict[Role, str] = {}
    for role in Role:
        account = make_service_account(session, username=f"{role.value}-job", role=role)
        tokens[role] = issue_api_token(session, user=account, name="hostile tests").value
    return tokens
