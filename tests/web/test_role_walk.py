"""Every route, as every role and as nobody, against ``waitlist serve`` in a child process.

In-process tests share one database session across a request and its error handler, so they
could not see an error page that needed the request's session after it had closed (issue 19,
item 8). Here each request has its own session, as in production. Who may call a route is read
from the route's own role dependency, so a new route is walked without editing this file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from app.db import make_engine, make_session_factory, session_scope
from app.main import create_app
from app.models import Letter, Outcome, Role, ValidationSchedule, WorklistTask
from app.outcomes.service import record_outcome
from app.schema import upgrade
from app.web.auth import PUBLIC_PREFIXES, PUBLIC_ROUTES, RoleCheck
from app.web.ids import MAX_ROW_ID
from tests.support.api_tokens import tokens_by_role
from tests.support.campaign_factories import make_campaign, make_review_item
from tests.support.databases import fresh_database
from tests.support.factories import make_cohort, make_pathway
from tests.support.served import waitlist_serve
from tests.support.settings import make_settings
from tests.support.users import PERSONA_ROLES, make_personas
from tests.support.web import csrf_token_in

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
FORBIDDEN_PAGE = "You cannot see this page"
CSRF_PAGE = "The form had expired"
PEOPLE = ["alice", "bob", "charlie"]
TOO_BIG = str(MAX_ROW_ID + 1)
# Ids are walked as one that exists, one that does not, and one no row can have (TOO_BIG).
FIXED_VALUES: dict[str, list[str]] = {
    "name": ["north"],
    "action": ["start", "pause", "resume", "cancel"],
}
# Posting these with a good token would end the walker's session or start another.
NOT_POSTED_WITH_A_GOOD_TOKEN = frozenset({"/sign-out", "/sign-in"})


@dataclass(frozen=True)
class Served:
    """The child process's URL, the personas' passwords and a token per role."""

    base_url: str
    passwords: dict[str, str]
    tokens: dict[Role, str]
    values: dict[str, list[str]]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A migrated database with personas, tokens, a campaign and a review item, served."""
    directory = tmp_path_factory.mktemp("walk")
    with fresh_database(directory) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with session_scope(make_session_factory(engine)) as session:
            personas = make_personas(session)
            tokens = tokens_by_role(session)
            cohort = make_cohort(session)
            campaign = make_campaign(session, cohort=cohort)
            item = make_review_item(
                session, campaign=campaign, pathway=make_pathway(session, cohort=cohort)
            )
            schedule = ValidationSchedule(
                name="walk",
                cohort_id=cohort.id,
                campaign_id=make_campaign(session, cohort=cohort).id,
                milestone_weeks=[12, 26, 52],
            )
            session.add(schedule)
            session.flush()
            unreachable = make_pathway(session, cohort=cohort)
            record_outcome(session, pathway=unreachable, outcome=Outcome.UNREACHABLE)
            task, letter = session.execute(
                select(WorklistTask.id, Letter.id).where(
                    WorklistTask.pathway_id == unreachable.id,
                    WorklistTask.letter_id == Letter.id,
                )
            ).one()
            existing = {
                "campaign_id": campaign.id,
                "item_id": item.id,
                "import_job_id": 1,
                "user_id": personas["alice"].id,
                "schedule_id": schedule.id,
                "task_id": task,
                "letter_id": letter,
            }
        engine.dispose()
        values = {name: [str(row_id), "987654", TOO_BIG] for name, row_id in existing.items()}
        with waitlist_serve(url, directory / "serve.log") as base_url:
            yield Served(
                base_url=base_url,
                passwords=personas.passwords,
                tokens=tokens,
                values={**FIXED_VALUES, **values},
            )


def _roles_allowed(dependant: Dependant) -> frozenset[Role] | None:
    """The roles the route's role check lets through; None where there is no check."""
    if isinstance(dependant.call, RoleCheck):
        return dependant.call.roles
    for sub in dependant.dependencies:
        found = _roles_allowed(sub)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Route:
    """One method and path template of the app, and who may call it."""

    method: str
    path: str
    roles: frozenset[Role]

    def urls(self, values_by_name: dict[str, list[str]]) -> list[str]:
        """The path with every combination of the walk's values for its parameters."""
        names = re.findall(r"\{(\w+)\}", self.path)
        urls = []
        for values in itertools.product(*(values_by_name[name] for name in names)):
            url = self.path
            for name, value in zip(names, values, strict=True):
                url = url.replace("{" + name + "}", value)
            urls.append(url)
        return urls


def _routes() -> list[Route]:
    app = create_app(make_settings("sqlite://"))
    routes = []
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if not path or path.startswith(PUBLIC_PREFIXES):
            continue
        for method in sorted(context.methods or ()):
            roles = _roles_allowed(context.dependant)
            routes.append(Route(method, path, frozenset(Role) if roles is None else roles))
    return routes


ROUTES = _routes()


def _sign_in(client: httpx.Client, served: Served, username: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    form = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "csrf_token": csrf_token_in(form.text),
            "username": username,
            "password": served.passwords[username],
            "next": "/",
        },
    )
    home = client.get("/")
    assert home.status_code == 200, f"{username} could not sign in"
    return csrf_token_in(home.text)


def _check(response: httpx.Response, who: str) -> None:
    where = f"{who}: {response.request.method} {response.request.url.raw_path.decode()}"
    assert response.status_code < 500, f"{where} -> {response.status_code}"
    assert "server" not in response.headers, f"{where} names its server"


@pytest.mark.slow
@pytest.mark.parametrize("username", PEOPLE)
def test_each_person_gets_their_pages_or_the_designed_refusal(
    served: Served, username: str
) -> None:
    role = PERSONA_ROLES[username]
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        csrf = _sign_in(client, served, username)
        for route in ROUTES:
            if route.path.startswith("/api/"):
                continue
            for url in route.urls(served.values):
                if route.method == "GET":
                    response = client.get(url)
                    _check(response, username)
                    if role not in route.roles:
                        assert response.status_code == 403, url
                        assert FORBIDDEN_PAGE in response.text
                    continue
                refused = client.post(url, data={"csrf_token": "not-this-browsers"})
                _check(refused, username)
                assert refused.status_code == 403, url
                expected = FORBIDDEN_PAGE if role not in route.roles else CSRF_PAGE
                if (route.method, route.path) in PUBLIC_ROUTES:
                    expected = CSRF_PAGE
                assert expected in refused.text, url
                if route.path not in NOT_POSTED_WITH_A_GOOD_TOKEN:
                    _check(client.post(url, data={"csrf_token": csrf}), username)


@pytest.mark.slow
def test_a_signed_out_browser_is_sent_to_sign_in_from_every_guarded_page(served: Served) -> None:
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        for route in ROUTES:
            if route.path.startswith("/api/") or (route.method, route.path) in PUBLIC_ROUTES:
                continue
            for url in route.urls(served.values):
                response = client.request(route.method, url, data={"csrf_token": "x"})
                _check(response, "nobody")
                assert response.status_code == 303, url
                assert response.headers["location"].startswith("/sign-in")


@pytest.mark.slow
@pytest.mark.parametrize("role", [None, *Role])
def test_each_token_gets_its_api_or_a_json_refusal(served: Served, role: Role | None) -> None:
    headers = {"Authorization": f"Bearer {served.tokens[role]}"} if role else {}
    with httpx.Client(base_url=served.base_url, timeout=30, headers=headers) as client:
        for route in ROUTES:
            if not route.path.startswith("/api/"):
                continue
            for url in route.urls(served.values):
                response = client.request(route.method, url, json={})
                _check(response, role.value if role else "nobody")
                if role is None:
                    assert response.status_code == 401, url
                elif role not in route.roles:
                    assert response.status_code == 403, url
                    assert response.json() == {"detail": "Your role does not allow this."}
                elif TOO_BIG in url:
                    assert response.status_code == 422, url
