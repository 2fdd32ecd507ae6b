"""A real OpenID Connect provider on loopback (``oidc-provider`` from npm, run with node).

``npm ci`` in tests/support/oidc installs it (.ci/run does). Where it or node is missing the
tests skip with how to install it, except under CI (``CI`` set), where that is a failure: a
skipped sign-in test proves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.support.server import free_port

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "waitlist-tests"
CLIENT_SECRET = "loopback-test-client-secret-not-for-real-use"

# The people the provider knows, by subject, with the claims it gives.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "clinician-7f3a": {
        "name": "Priya Patel",
        "given_name": "Priya",
        "family_name": "Patel",
        "preferred_username": "priya.patel@example.nhs.uk",
        "email": "priya.patel@example.nhs.uk",
        "roles": ["other.application", "waitlist.clinician"],
    },
    "coordinator-91c2": {
        "name": "Omar Okafor",
        "preferred_username": "omar.okafor@example.nhs.uk",
        "email": "omar.okafor@example.nhs.uk",
        "roles": ["waitlist.coordinator"],
    },
    "newcomer-0b5d": {
        "name": "Nia Novak",
        "preferred_username": "nia.novak@example.nhs.uk",
        "email": "nia.novak@example.nhs.uk",
        "roles": ["another.application"],
    },
    "cis2-5521": {
        "name": "Sam Singh",
        "preferred_username": "555012345678",
        "nhsid_nrbac_roles": [
            {"person_roleid": "555254239107", "org_code": "RXX", "role_code": "S8000:G8000:R8001"}
        ],
    },
}
ROLE_MAPPING = {
    "waitlist.clinician": "clinician",
    "waitlist.coordinator": "coordinator",
    "waitlist.admin": "admin",
}


@dataclass(frozen=True)
class LoopbackProvider:
    """A running provider: its issuer URL and the static client registered with it."""

    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def settings_overrides(self, **more: Any) -> dict[str, Any]:
        """The ``WAITLIST_OIDC_*`` settings for an app that signs in here."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": self.client_id,
            "oidc_client_secret": self.client_secret,
            "oidc_scopes": "openid profile email roles",
            "oidc_role_mapping": ROLE_MAPPING,
            "oidc_provider_name": "the test identity provider",
            **more,
        }


def node_or_skip() -> str:
    """The node executable, once ``npm ci`` has installed the provider; else skip (or fail)."""
    node = shutil.which("node")
    installed = (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists()
    if node and installed:
        return node
    message = (
        "The test OpenID provider is not installed: run `npm ci` in tests/support/oidc "
        "(node 20+ and npm)"
    )
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so a missing provider is a failure)")
    pytest.skip(message)


@contextmanager
def run_provider(
    directory: Path,
    *,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    accounts: dict[str, dict[str, Any]] | None = None,
) -> Iterator[LoopbackProvider]:
    """Start the provider on a free loopback port until the block ends."""
    node = node_or_skip()
    port = free_port()
    accounts_file = directory / "accounts.json"
    accounts_file.write_text(json.dumps(accounts or ACCOUNTS))
    env = {
        **os.environ,
        "PORT": str(port),
        "ACCOUNTS_FILE": str(accounts_file),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URIS": json.dumps(redirect_uris),
        "POST_LOGOUT_REDIRECT_URIS": json.dumps(post_logout_redirect_uris),
        "NODE_ENV": "test",
    }
    log_path = directory / "oidc-provider.log"
    issuer = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=log, stderr=log
        )
        try:
            _wait_for_discovery(issuer, process, log_path)
            yield LoopbackProvider(issuer=issuer)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_for_discovery(issuer: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            url = issuer + "/.well-known/openid-configuration"
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    output = log_path.read_text(errors="replace")
    raise RuntimeError(f"oidc-provider did not start (exit {process.poll()}):\n{output}")


@dataclass
class _Form:
    action: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    """The page's forms with their hidden fields (the provider's own pages, as served)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(action=values.get("action", ""), fields={}))
        elif tag == "input" and self.forms and values.get("type") == "hidden":
            self.forms[-1].fields[values.get("name", "")] = values.get("value", "")


def forms_in(html: str) -> list[_Form]:
    """Every form on a page, with its action and hidden fields."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def browse(
    client: httpx.Client, url: str, *, login: str, stop_at: str | None = None
) -> tuple[httpx.Response, str]:
    """Go to ``url`` as a browser would: follow redirects, and at the provider's own pages sign
    in as ``login`` (any password) and consent. Stops at a page (its response, "") or before a
    redirect to ``stop_at`` (that response and the location). ``client`` must not follow
    redirects itself."""
    response = client.get(url)
    for _ in range(30):
        location = response.headers.get("location")
        if response.is_redirect and location:
            target = urljoin(str(response.url), location)
            if stop_at and target.startswith(stop_at):
                return response, target
            response = client.get(target)
        elif response.status_code == 200 and "/interaction/" in str(response.url):
            form = forms_in(response.text)[0]
            fields = dict(form.fields)
            if fields.get("prompt") == "login":
                fields.update(login=login, password="any password: the development login page")
            response = client.post(urljoin(str(response.url), form.action), data=fields)
        else:
            return response, ""
    raise AssertionError(f"the sign-in went round in circles: {response.url}")
