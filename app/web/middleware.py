"""Request id, access log without identifiers, and security headers, as pure ASGI middleware."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logging import request_id_var

log = logging.getLogger("app.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cache-control", b"no-store"),
]


def security_headers(*, form_action: tuple[str, ...] = ()) -> list[tuple[bytes, bytes]]:
    """The headers every response gets; ``form_action`` adds origins a form may lead to.

    The identity provider's origin goes there: signing out is a form post that the browser
    follows to the provider's end-session endpoint, and ``form-action`` governs redirects too.
    """
    if not form_action:
        return list(SECURITY_HEADERS)
    extra = (" " + " ".join(form_action)).encode()
    return [
        (name, value.replace(b"form-action 'self'", b"form-action 'self'" + extra))
        if name == b"content-security-policy"
        else (name, value)
        for name, value in SECURITY_HEADERS
    ]


class RequestContextMiddleware:
    """Gives each request an id (kept from ``X-Request-ID`` if sane) and logs one line for it.

    The log line names the route template (``/webhooks/twilio/voice/{token}``), never the raw
    path, so unguessable callback tokens and query strings stay out of the logs.
    """

    def __init__(
        self,
        app: ASGIApp,
        observe: Callable[[str, str, float], None] | None = None,
        form_action: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self._observe = observe
        self._headers = security_headers(form_action=form_action)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                present = {name for name, _ in headers}
                headers.extend(h for h in self._headers if h[0] not in present)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "(unrouted)"
            seconds = time.perf_counter() - started
            log.info("%s %s %s %.1fms", scope["method"], path, status, seconds * 1000)
            if self._observe is not None:
                self._observe(path, scope["method"], seconds)
            request_id_var.reset(token)
