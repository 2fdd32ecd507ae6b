"""Twilio's request signature: compute it (the simulator, tests) and check it (webhooks)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"

FormParams = Mapping[str, str | Sequence[str]]


class _MultiParams:
    """A view of form parameters that gives every value of a repeated name to the validator."""

    def __init__(self, params: FormParams) -> None:
        self._params = params

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def getall(self, name: str) -> list[str]:
        value = self._params[name]
        return [value] if isinstance(value, str) else list(value)


def signed_url(public_base_url: str, raw_path: str, query_string: str) -> str:
    """The URL Twilio requested (and signed): our public base URL plus the raw path and query."""
    url = public_base_url.rstrip("/") + raw_path
    return f"{url}?{query_string}" if query_string else url


def compute_signature(auth_token: str, url: str, params: FormParams) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for a POST of ``params`` to ``url``."""
    validator = RequestValidator(auth_token)
    signature: str = validator.compute_signature(url, _MultiParams(params))
    return signature


def is_valid_signature(auth_token: str, url: str, params: FormParams, signature: str) -> bool:
    """Whether ``signature`` is Twilio's signature of ``params`` posted to ``url``."""
    if not signature:
        return False
    validator = RequestValidator(auth_token)
    return bool(validator.validate(url, _MultiParams(params), signature))
