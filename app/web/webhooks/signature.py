"""The dependency that lets only Twilio (or our simulator) in: a valid X-Twilio-Signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.telephony.signature import SIGNATURE_HEADER, is_valid_signature, signed_url
from app.web.deps import SettingsDep


@dataclass(frozen=True)
class TwilioForm:
    """A verified webhook's parameters: every value of each name, and the first of each."""

    all: dict[str, list[str]]

    @property
    def first(self) -> dict[str, str]:
        """One value per name (Twilio sends one for every parameter we read)."""
        return {name: values[0] for name, values in self.all.items() if values}


async def verified_form(request: Request, settings: SettingsDep) -> TwilioForm:
    """Parse the form and check its signature against the URL Twilio used; 403 otherwise.

    Behind a proxy the request's own scheme and host are not what Twilio signed, so the URL is
    ``PUBLIC_BASE_URL`` plus the raw path and query string. Nothing is written before this passes.
    """
    form = await request.form()
    params = {
        name: [value for value in form.getlist(name) if isinstance(value, str)]
        for name in form.keys()  # noqa: SIM118 - FormData is a multi-dict, keys() is its API
    }
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
