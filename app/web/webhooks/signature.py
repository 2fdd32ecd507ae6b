"""The dependency that lets only Twilio (or our simulator) in: a valid X-Twilio-Signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request

from app.config import Settings
from app.telephony.signature import SIGNATURE_HEADER, is_valid_signature, signed_url

URLENCODED = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000  # as Starlette's form parser: Twilio sends a few dozen


@dataclass(frozen=True)
class TwilioForm:
    """A verified webhook's parameters: every value of each name, and the first of each."""

    all: dict[str, list[str]]

    @property
    def first(self) -> dict[str, str]:
        """One value per name (Twilio sends one for every parameter we read)."""
        return {name: values[0] for name, values in self.all.items() if values}


async def _params(request: Request) -> dict[str, list[str]]:
    """Every value of each form field, as Starlette's parser reads them.

    Twilio posts URL-encoded forms: the standard library splits those in a few microseconds,
    where Starlette's streaming multipart parser costs a tenth of a webhook's CPU. Any other
    content type still goes through ``request.form()``.
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    params: dict[str, list[str]] = {}
    if media_type == URLENCODED:
        body = (await request.body()).decode("latin-1")
        try:
            pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="too many form fields") from exc
        for name, value in pairs:
            params.setdefault(name, []).append(value)
        return params
    form = await request.form()
    for name in form.keys():  # noqa: SIM118 - FormData is a multi-dict, keys() is its API
        params[name] = [value for value in form.getlist(name) if isinstance(value, str)]
    return params


async def verified_form(request: Request) -> TwilioForm:
    """Parse the form and check its signature against the URL Twilio used; 403 otherwise.

    Behind a proxy the request's own scheme and host are not what Twilio signed, so the URL is
    ``PUBLIC_BASE_URL`` plus the raw path and query string. Nothing is written before this passes.
    The settings are read from the app itself, not through a (threadpool) sync dependency.
    """
    settings: Settings = request.app.state.settings
    params = await _params(request)
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    url = signed_url(
        settings.public_base_url,
        raw_path.decode("latin-1"),
        request.scope.get("query_string", b"").decode("latin-1"),
    )
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not is_valid_signature(settings.webhook_auth_token, url, params, signature):
        raise HTTPException(status_code=403, detail="invalid Twilio signature")
    return TwilioForm(all=params)


VerifiedForm = Annotated[TwilioForm, Depends(verified_form)]
