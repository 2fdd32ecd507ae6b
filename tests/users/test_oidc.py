"""The OpenID Connect client against a real provider (oidc-provider on loopback): the ID tokens
it really issues are accepted, and the same tokens altered in any way that matters are not."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.models import Role
from app.users.identities import RoleMapping
from app.users.oidc import OidcClient, OidcError, PendingSignIn, ProviderConfig, check_assurance
from tests.support.oidc_provider import LoopbackProvider, browse, run_provider

# Registered with the provider but never served: the code is read off the redirect instead.
REDIRECT_URI = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackProvider]:
    """The real provider, with this module's redirect URI registered."""
    with run_provider(
        tmp_path_factory.mktemp("oidc-client"),
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=["http://127.0.0.1:9/signed-out"],
    ) as running:
        yield running


def _config(provider: LoopbackProvider, **changes: Any) -> ProviderConfig:
    config = ProviderConfig(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scopes="openid profile email roles nationalrbacaccess",
        redirect_uri=REDIRECT_URI,
    )
    return replace(config, **changes)


def _code(client: OidcClient, login: str) -> tuple[PendingSignIn, str, str]:
    """A real authorization code for ``login``: the pending sign-in, the code and the state."""
    url, pending = client.begin(next_path="/")
    with httpx.Client(follow_redirects=False, timeout=20) as browser:
        _, callback = browse(browser, url, login=login, stop_at=REDIRECT_URI)
    query = {name: values[0] for name, values in parse_qs(urlsplit(callback).query).items()}
    return pending, query["code"], query["state"]


def _real_id_token(client: OidcClient, login: str) -> tuple[PendingSignIn, str]:
    pending, code, _state = _code(client, login)
    token = client.exchange_code(pending, code=code)
    return pending, str(token["id_token"])


def _reencode(id_token: str, **claims: Any) -> str:
    """The same token with some claims changed and the original signature kept."""
    header, payload, signature = id_token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded.update(claims)
    changed = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


def test_a_real_sign_in_gives_the_subject_and_the_claims_from_the_token_and_userinfo(
    provider: LoopbackProvider,
) -> None:
    client = OidcClient(_config(provider))
    pending, code, state = _code(client, "cis2-5521")

    identity = client.finish(pending, state=state, code=code)

    assert identity.subject == "cis2-5521"
    assert identity.issuer == provider.issuer
    # From userinfo (the provider keeps profile claims out of the ID token, as CIS2 does).
    assert identity.claims["name"] == "Sam Singh"
    cis2 = RoleMapping(
        claim="nhsid_nrbac_roles", key="role_code", mapping={"S8000:G8000:R8001": Role.CLINICIAN}
    )
    assert cis2.role_for(identity.claims) == Role.CLINICIAN


def test_a_token_with_an_altered_signature_is_refused(provider: LoopbackProvider) -> None:
    client = OidcClient(_config(provider))
    pending, id_token = _real_id_token(client, "clinician-7f3a")
    header, payload, signature = id_token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    with pytest.raises(OidcError) as refused:
        client.validate_id_token(f"{header}.{payload}.{flipped}", nonce=pending.nonce)
    assert refused.value.reason == "invalid_id_token"
    # The untouched token is fine: it is the alteration that is refused.
    assert client.validate_id_token(id_token, nonce=pending.nonce)["sub"] == "clinician-7f3a"


def test_a_token_whose_claims_were_changed_under_its_signature_is_refused(
    provider: LoopbackProvider,
) -> None:
    client = OidcClient(_config(provider))
    pending, id_token = _real_id_token(client, "newcomer-0b5d")

    with pytest.raises(OidcError):
        client.validate_id_token(
            _reencode(id_token, sub="clinician-7f3a", roles=["waitlist.admin"]),
            nonce=pending.nonce,
        )


def test_a_token_for_another_client_is_refused(provider: LoopbackProvider) -> None:
    issuing = OidcClient(_config(provider))
    pending, id_token = _real_id_token(issuing, "clinician-7f3a")
    other_audience = OidcClient(_config(provider, client_id="another-application"))

    with pytest.raises(OidcError) as refused:
        other_audience.validate_id_token(id_token, nonce=pending.nonce)
    assert refused.value.reason == "invalid_id_token"


def test_a_token_with_another_sign_ins_nonce_is_refused(provider: LoopbackProvider) -> None:
    client = OidcClient(_config(provider))
    _pending, id_token = _real_id_token(client, "clinician-7f3a")

    with pytest.raises(OidcError):
        client.validate_id_token(id_token, nonce="the nonce of some other sign-in")


def test_a_token_from_another_issuer_is_refused(provider: LoopbackProvider) -> None:
    client = OidcClient(_config(provider))
    pending, id_token = _real_id_token(client, "clinician-7f3a")
    elsewhere = OidcClient(_config(provider))
    elsewhere.config = replace(elsewhere.config, issuer="https://login.example.com")
    elsewhere._metadata = client.metadata()
    elsewhere._metadata_at = float("inf")

    with pytest.raises(OidcError):
        elsewhere.validate_id_token(id_token, nonce=pending.nonce)


def test_an_unsigned_token_is_refused(provider: LoopbackProvider) -> None:
    client = OidcClient(_config(provider))
    pending, id_token = _real_id_token(client, "clinician-7f3a")
    _header, payload, _signature = id_token.split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()

    with pytest.raises(OidcError):
        client.validate_id_token(f"{none_header}.{payload}.", nonce=pending.nonce)


def test_a_code_exchanged_without_its_pkce_verifier_is_refused(provider: LoopbackProvider) -> None:
    client = OidcClient(_config(provider))
    pending, code, _state = _code(client, "clinician-7f3a")
    wrong = replace(pending, code_verifier="a-verifier-the-provider-never-saw-" + "x" * 20)

    with pytest.raises(OidcError) as refused:
        client.exchange_code(wrong, code=code)
    assert refused.value.reason == "token_exchange_failed"


def test_a_provider_whose_discovery_names_another_issuer_is_not_trusted(
    provider: LoopbackProvider,
) -> None:
    assert OidcClient(_config(provider)).metadata()["issuer"] == provider.issuer
    # The same document fetched for a different issuer string (issuers compare exactly).
    impostor = OidcClient(_config(provider, issuer=provider.issuer + "/"))
    with pytest.raises(OidcError) as refused:
        impostor.metadata()
    assert refused.value.reason == "discovery_failed"
    assert "another issuer" in str(refused.value)


def test_the_end_session_url_names_the_client_the_token_and_where_to_come_back(
    provider: LoopbackProvider,
) -> None:
    client = OidcClient(_config(provider))
    url = client.end_session_url(id_token="a.b.c", post_logout_redirect_uri="https://w.example/x")
    assert url is not None and url.startswith(client.metadata()["end_session_endpoint"])
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    assert query == {
        "client_id": provider.client_id,
        "id_token_hint": "a.b.c",
        "post_logout_redirect_uri": "https://w.example/x",
    }


def test_where_an_assurance_level_is_required_it_is_asked_for_and_a_token_without_it_refused(
    provider: LoopbackProvider,
) -> None:
    # The loopback provider's login page sets no assurance level, as a password-only sign-in
    # at a provider that does not vouch for a smartcard would not.
    client = OidcClient(_config(provider, acr_values=("AAL3_ANY",)))
    url, _pending = client.begin(next_path="/")
    assert parse_qs(urlsplit(url).query)["acr_values"] == ["AAL3_ANY"]
    pending, code, state = _code(client, "clinician-7f3a")

    with pytest.raises(OidcError) as refused:
        client.finish(pending, state=state, code=code)

    assert refused.value.reason == "assurance_too_low"
    assert "smartcard" in str(refused.value)


def test_no_required_level_asks_for_none_and_accepts_any() -> None:
    check_assurance({"sub": "a"}, accepted=())
    check_assurance({"sub": "a", "acr": "AAL1_USERPASS"}, accepted=())


def test_only_an_accepted_level_in_the_token_lets_a_sign_in_through() -> None:
    accepted = ("AAL3_ANY", "AAL2_OR_AAL3_ANY")
    check_assurance({"sub": "a", "acr": "AAL3_ANY"}, accepted=accepted)
    for token_level in ("AAL1_USERPASS", "aal3_any", "", None, ["AAL3_ANY"]):
        with pytest.raises(OidcError) as refused:
            check_assurance({"sub": "a", "acr": token_level}, accepted=accepted)
        assert refused.value.reason == "assurance_too_low"


def test_role_mapping_takes_the_first_mapped_value_and_ignores_the_rest() -> None:
    mapping = RoleMapping(
        claim="roles", mapping={"waitlist.admin": Role.ADMIN, "waitlist.clinician": Role.CLINICIAN}
    )
    assert mapping.role_for({"roles": ["waitlist.clinician", "waitlist.admin"]}) == Role.ADMIN
    assert mapping.role_for({"roles": "waitlist.clinician"}) == Role.CLINICIAN
    assert mapping.role_for({"roles": ["unrelated"]}) is None
    assert mapping.role_for({}) is None
    assert RoleMapping(claim="roles", mapping={}).role_for({"roles": ["waitlist.admin"]}) is None


def test_cis2_roles_count_only_at_the_trusts_own_organisations() -> None:
    claims = {
        "nhsid_nrbac_roles": [
            {"org_code": "RYY", "role_code": "S8000:G8000:R8000"},
            {"org_code": "RXX", "role_code": "S8000:G8001:R8003"},
        ]
    }
    mapping = {"S8000:G8000:R8000": Role.CLINICIAN, "S8000:G8001:R8003": Role.COORDINATOR}
    anywhere = RoleMapping(claim="nhsid_nrbac_roles", key="role_code", mapping=mapping)
    here = RoleMapping(
        claim="nhsid_nrbac_roles", key="role_code", mapping=mapping, org_codes=frozenset({"RXX"})
    )
    assert anywhere.role_for(claims) == Role.CLINICIAN
    assert here.role_for(claims) == Role.COORDINATOR
    assert replace(here, org_codes=frozenset({"RZZ"})).role_for(claims) is None
