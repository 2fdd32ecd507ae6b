"""OpenID Connect with the trust's identity provider: authorization code with PKCE (S256).

Authlib builds the authorization request and exchanges the code; joserfc checks the ID token:
its signature against the keys the provider publishes, and its issuer, audience, expiry and
nonce. Nothing here knows the web framework: the web layer keeps the :class:`PendingSignIn`
in a signed cookie between :meth:`OidcClient.begin` and :meth:`OidcClient.finish`.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.config import Settings
from app.errors import DomainError

# Asymmetric only: an HS256 token would be "signed" with our own client secret.
ALGORITHMS = ("RS256", "PS256", "ES256", "RS384", "RS512", "ES384", "PS384")
METADATA_TTL = 3600.0
JWKS_REFRESH_AT_MOST_EVERY = 60.0


class OidcError(DomainError):
    """Sign-in with the identity provider failed; ``reason`` is a short code for the audit."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ProviderConfig:
    """One identity provider client registration, as the settings give it."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    redirect_uri: str
    token_auth_method: str = "client_secret_basic"  # noqa: S105 - a method's name
    use_userinfo: bool = True
    # Accepted ``acr`` values (authentication assurance levels); empty accepts any.
    acr_values: tuple[str, ...] = ()
    clock_skew_seconds: int = 120
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderConfig:
        """The registration from ``WAITLIST_OIDC_*`` (settings have checked it is complete)."""
        if not settings.oidc_enabled or settings.oidc_client_secret is None:
            raise OidcError("Sign-in with an identity provider is not set up.", reason="disabled")
        return cls(
            issuer=str(settings.oidc_issuer),
            client_id=str(settings.oidc_client_id),
            client_secret=settings.oidc_client_secret.get_secret_value(),
            scopes=settings.oidc_scopes,
            redirect_uri=settings.oidc_callback_url,
            token_auth_method=settings.oidc_token_auth_method,
            use_userinfo=settings.oidc_userinfo,
            acr_values=tuple(settings.oidc_acr_values),
            clock_skew_seconds=settings.oidc_clock_skew_seconds,
            timeout_seconds=settings.oidc_timeout_seconds,
        )


@dataclass(frozen=True)
class PendingSignIn:
    """What must come back with the browser: the state, the nonce and the PKCE verifier."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str

    def to_dict(self) -> dict[str, str]:
        """Plain values for the signed cookie."""
        return {"s": self.state, "n": self.nonce, "v": self.code_verifier, "p": self.next_path}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingSignIn:
        """Back from the signed cookie."""
        return cls(
            state=str(data["s"]),
            nonce=str(data["n"]),
            code_verifier=str(data["v"]),
            next_path=str(data["p"]),
        )


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: its issuer and subject, the claims, the raw ID token."""

    issuer: str
    subject: str
    claims: dict[str, Any]
    id_token: str


def check_assurance(claims: dict[str, Any], *, accepted: tuple[str, ...]) -> None:
    """Refuse a sign-in whose assurance level (``acr``) is not one the trust accepts.

    The provider decides how someone signed in; asking for ``acr_values`` is only a request
    (OpenID Connect Core 3.1.2.1), so the level in the signed ID token is what counts. A token
    without ``acr`` is refused too when levels are required.
    """
    if accepted and claims.get("acr") not in accepted:
        raise OidcError(
            "This service needs a stronger way of signing in (such as your smartcard) than the "
            "one you used. Sign in again with it.",
            reason="assurance_too_low",
        )


class OidcClient:
    """Talks to one provider; keeps its discovery document and signing keys between requests."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched at most hourly and checked."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at > METADATA_TTL:
                self._metadata = None
            return self._metadata_locked()

    def begin(self, *, next_path: str) -> tuple[str, PendingSignIn]:
        """The provider's authorization URL to send the browser to, and what to keep."""
        pending = PendingSignIn(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            next_path=next_path,
        )
        extra = {"acr_values": " ".join(self.config.acr_values)} if self.config.acr_values else {}
        url, _state = self._session().create_authorization_url(
            self.metadata()["authorization_endpoint"],
            state=pending.state,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
            **extra,
        )
        return url, pending

    def finish(self, pending: PendingSignIn, *, state: str, code: str) -> Identity:
        """Exchange the code the browser brought back and check the ID token it buys."""
        if not secrets.compare_digest(state.encode(), pending.state.encode()):
            raise OidcError("The sign-in did not match the one started here.", reason="bad_state")
        tokens = self.exchange_code(pending, code=code)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("The identity provider sent no ID token.", reason="no_id_token")
        claims = self.validate_id_token(id_token, nonce=pending.nonce)
        if self.config.use_userinfo and self.metadata().get("userinfo_endpoint"):
            claims = {**self._userinfo(tokens, subject=claims["sub"]), **claims}
        return Identity(
            issuer=self.config.issuer, subject=claims["sub"], claims=claims, id_token=id_token
        )

    def exchange_code(self, pending: PendingSignIn, *, code: str) -> dict[str, Any]:
        """The token endpoint's answer for this code and the PKCE verifier."""
        try:
            token: dict[str, Any] = self._session().fetch_token(
                self.metadata()["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
                timeout=self.config.timeout_seconds,
            )
        except (requests.RequestException, AuthlibBaseError, ValueError, KeyError) as error:
            raise OidcError(
                "The identity provider did not accept the sign-in.", reason="token_exchange_failed"
            ) from error
        return token

    def validate_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The ID token's claims once signature, issuer, audience, expiry and nonce hold."""
        try:
            token = self._decode(id_token)
            registry = jwt.JWTClaimsRegistry(
                leeway=self.config.clock_skew_seconds,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError) as error:
            raise OidcError(
                "The identity provider's answer could not be trusted.", reason="invalid_id_token"
            ) from error
        claims = dict(token.claims)
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        # OpenID Connect Core 3.1.3.7: several audiences need azp naming this client.
        if several and claims.get("azp") != self.config.client_id:
            raise OidcError(
                "The identity provider's answer could not be trusted.", reason="invalid_id_token"
            )
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise OidcError("The ID token names nobody.", reason="invalid_id_token")
        check_assurance(claims, accepted=self.config.acr_values)
        return claims

    def end_session_url(self, *, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to end the provider's session too, if it offers that."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except OidcError:
            return None
        if not isinstance(endpoint, str):
            return None
        params = {"client_id": self.config.client_id}
        params["post_logout_redirect_uri"] = post_logout_redirect_uri
        if id_token:
            params["id_token_hint"] = id_token
        separator = "&" if "?" in endpoint else "?"
        return endpoint + separator + urlencode(params)

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            token_endpoint_auth_method=self.config.token_auth_method,
            scope=self.config.scopes,
            redirect_uri=self.config.redirect_uri,
            code_challenge_method="S256",
        )

    def _fetch_metadata(self) -> dict[str, Any]:
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, reason="discovery_failed")
        # OpenID Connect Discovery 4.3: the document names exactly the issuer asked for (which
        # every ID token's iss must then equal), trailing slash and all.
        if document.get("issuer") != self.config.issuer:
            raise OidcError(
                "The identity provider's discovery document names another issuer.",
                reason="discovery_failed",
            )
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(field), str):
                raise OidcError(
                    f"The identity provider's discovery document has no {field}.",
                    reason="discovery_failed",
                )
        return document

    def _decode(self, id_token: str) -> jwt.Token:
        try:
            return jwt.decode(id_token, self._signing_keys(), algorithms=list(ALGORITHMS))
        except JoseError:
            # The provider may have rotated its keys since they were fetched: refetch once.
            if time.monotonic() - self._keys_at < JWKS_REFRESH_AT_MOST_EVERY:
                raise
            return jwt.decode(
                id_token, self._signing_keys(refresh=True), algorithms=list(ALGORITHMS)
            )

    def _signing_keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                jwks_uri = str(self._metadata_locked()["jwks_uri"])
                self._keys = KeySet.import_key_set(
                    self._get_json(jwks_uri, reason="keys_unavailable")  # type: ignore[arg-type]
                )
                self._keys_at = time.monotonic()
            return self._keys

    def _metadata_locked(self) -> dict[str, Any]:
        if self._metadata is None:
            self._metadata = self._fetch_metadata()
            self._metadata_at = time.monotonic()
        return self._metadata

    def _userinfo(self, tokens: dict[str, Any], *, subject: str) -> dict[str, Any]:
        endpoint = self.metadata()["userinfo_endpoint"]
        access_token = tokens.get("access_token")
        if not isinstance(access_token, str):
            return {}
        try:
            response = requests.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=self.config.timeout_seconds,
            )
            response.raise_for_status()
            info = response.json()
        except (requests.RequestException, ValueError) as error:
            raise OidcError(
                "The identity provider did not say who signed in.", reason="userinfo_failed"
            ) from error
        # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise OidcError(
                "The identity provider described someone else.", reason="userinfo_mismatch"
            )
        return info

    def _get_json(self, url: str, *, reason: str) -> dict[str, Any]:
        try:
            response = requests.get(
                url, headers={"Accept": "application/json"}, timeout=self.config.timeout_seconds
            )
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise OidcError("The identity provider could not be reached.", reason=reason) from error
        if not isinstance(document, dict):
            raise OidcError("The identity provider answered nonsense.", reason=reason)
        return document
