"""Schemathesis over the OpenAPI document: every operation, as every role and as nobody.

The app runs with its real request sessions (no test transaction), on a migrated database shared
by this module, so state built by one call (a campaign, an import) is there for the next. Any
5xx, any status the document does not list, or any body that does not match its schema fails.
The budget is small for CI; ``WAITLIST_FUZZ_EXAMPLES`` raises it for a soak (docs/operations.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import checks

from app.db import make_engine, make_session_factory, session_scope
from app.main import create_app
from app.models import Role
from app.schema import upgrade
from tests.support.api_tokens import tokens_by_role
from tests.support.databases import fresh_database
from tests.support.settings import make_settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
EXAMPLES = int(os.environ.get("WAITLIST_FUZZ_EXAMPLES", "8"))
CALLERS = ["nobody", *(role.value for role in Role)]
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# The app under test and the bearer token of each role (by role name).
ServedApi = tuple[FastAPI, dict[str, str]]


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    """The real app over its own migrated database, and a token for each role."""
    with fresh_database(tmp_path_factory.mktemp("fuzz")) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with session_scope(make_session_factory(engine)) as session:
            tokens = {role.value: value for role, value in tokens_by_role(session).items()}
        app = create_app(make_settings(url))
        try:
            yield app, tokens
        finally:
            app.state.engine.dispose()
            engine.dispose()


# The document, fetched from the app as a client would (it needs no database; the calls below
# go to ``served_app``). Loaded at import: schemathesis' lazy fixture loader predates pytest 9.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(make_settings("sqlite://"))
).include(path_regex="^/api/")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_answers_as_its_document_says(
    case: schemathesis.Case[Any], served_app: ServedApi
) -> None:
    tokens = served_app[1]
    for caller in CALLERS:
        headers = {"Authorization": f"Bearer {tokens[caller]}"} if caller in tokens else {}
        case.call_and_validate(app=served_app[0], headers=headers, checks=CHECKS)
