"""GOV.UK Notify for texts, through its official ``notifications-python-client`` (any Notify
service that offers the same API can be used at its own base URL).

Notify sends only from templates: each kind of text (the opening, a reply in the conversation, a
courtesy message) has a template id, and the approved script's words go in as the ``message``
personalisation field. Every text carries a ``reference`` (the attempt's token) so its delivery
receipt finds the attempt. Notify places no calls: a campaign's calls go through Twilio (or the
simulator), its texts through Notify, by ``app.telephony.routing``.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from app.telephony.notify_events import notify_state, reference_for
from app.telephony.numbers import is_fictional
from app.telephony.provider import (
    CallRequest,
    ChannelName,
    Placed,
    ProviderContact,
    ProviderError,
    ProviderTimeoutError,
    SmsRequest,
)

PUBLIC_API = "https://api.notifications.service.gov.uk"
MESSAGE_FIELD = "message"  # the personalisation field every template puts the text in
DEFAULT_KIND = "default"
# Notify's published per-minute limit for every key type (docs/notify.md, "Rate limits").
MESSAGES_PER_MINUTE = 3000
# How many pages (250 texts each, newest first) reconciliation reads when it has no id.
_RECONCILE_PAGES = 4
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _first_error(exc: APIError) -> str:
    """Notify's error name and message (``BadRequestError: Missing personalisation: message``)."""
    detail: Any = exc.message
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return f"{detail[0].get('error', 'error')}: {detail[0].get('message', '')}"
    return str(detail)


def map_error(exc: APIError) -> ProviderError:
    """Our ProviderError for a Notify error: permanent when sending the same again cannot help."""
    if exc.response is None:
        # No HTTP answer at all (timeout, connection lost): Notify may have the text.
        return ProviderTimeoutError("no answer from Notify")
    status = exc.status_code
    label = f"Notify answered HTTP {status}: {_first_error(exc)}"[:500]
    # 403 is a bad key or a clock more than 30 seconds out, 429 a rate or daily limit, 5xx
    # Notify's side: all worth a later try. Any other 4xx (400: a bad number, a template or its
    # personalisation, a team-only key) is refused again however often it is sent.
    retry = status in (403, 429) or status >= 500
    return ProviderError(label, permanent=not retry, code=f"notify-{status}")


def is_loopback(base_url: str) -> bool:
    """Whether ``base_url`` is a Notify stand-in on this machine (it can reach no phone)."""
    return (urlsplit(base_url).hostname or "") in _LOOPBACK_HOSTS


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _created_at(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


class NotifyProvider:
    """Sends texts through Notify templates; receipts and replies come back as callbacks."""

    name = "notify"

    def __init__(
        self,
        *,
        api_key: str,
        templates: Mapping[str, str],
        base_url: str = PUBLIC_API,
        sms_sender_id: str | None = None,
        request_timeout_seconds: float = 10.0,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._templates = dict(templates)
        self._sender = sms_sender_id
        self._timeout = request_timeout_seconds
        # The client's requests.Session is not thread-safe: one client per dispatching thread.
        self._local = threading.local()
        # A stand-in on loopback reaches no phone, so synthetic (drama-range) numbers may go to
        # it; the real Notify never gets one.
        self._refuse_fictional = not is_loopback(self._base_url)

    @property
    def service_id(self) -> str:
        """The Notify service the key belongs to (the rate budget is kept per service)."""
        return str(self._client().service_id)

    def _client(self) -> NotificationsAPIClient:
        client: NotificationsAPIClient | None = getattr(self._local, "client", None)
        if client is None:
            client = NotificationsAPIClient(
                self._api_key, base_url=self._base_url, timeout=self._timeout
            )
            self._local.client = client
        return client

    def template_for(self, kind: str) -> str:
        """The template id for a kind of text, else the default one."""
        template = self._templates.get(kind) or self._templates.get(DEFAULT_KIND)
        if not template:
            raise ProviderError(
                f"no Notify template is configured for {kind!r} texts",
                permanent=True,
                code="notify-template",
            )
        return template

    def place_call(self, request: CallRequest) -> Placed:
        """Notify sends no calls: a campaign's calls go through its telephony provider."""
        raise ProviderError("Notify places no calls", permanent=True, code="notify-no-calls")

    def send_sms(self, request: SmsRequest) -> Placed:
        """Send one text through the template for its kind, referenced by the attempt's token."""
        if self._refuse_fictional and is_fictional(request.to):
            raise ProviderError(
                "refusing to text a fictional (drama-range) number through Notify",
                permanent=True,
                code="fictional-number",
            )
        try:
            response = self._client().send_sms_notification(
                phone_number=request.to,
                template_id=self.template_for(request.kind),
                personalisation={MESSAGE_FIELD: request.body},
                reference=reference_for(request.token, turn=request.turn),
                sms_sender_id=self._sender,
            )
        except APIError as exc:
            raise map_error(exc) from exc
        notification_id = response.get("id") if isinstance(response, dict) else None
        if not notification_id:
            raise ProviderTimeoutError("Notify accepted the text but gave no id")
        return Placed(sid=str(notification_id))

    def find_contact(
        self, *, channel: ChannelName, to: str, since: dt.datetime, sid: str | None = None
    ) -> ProviderContact | None:
        """The newest text Notify has to ``to`` since ``since`` (or with id ``sid``)."""
        if channel != "sms" or (sid and not _is_uuid(sid)):
            return None  # a call, or another provider's text
        try:
            found = [self._client().get_notification_by_id(sid)] if sid else self._recent_texts()
        except APIError as exc:
            if exc.response is not None and exc.status_code == 404:
                return None
            raise map_error(exc) from exc
        matches = []
        for item in found:
            created = _created_at(item.get("created_at"))
            if (sid or item.get("phone_number") == to) and (created is None or created >= since):
                matches.append((str(item.get("id")), item.get("status"), created))
        if not matches:
            return None
        notification_id, status, created = max(matches, key=lambda m: m[2] or since)
        return ProviderContact(
            sid=notification_id, state=notify_state(str(status)), created_at=created
        )

    def _recent_texts(self) -> list[dict[str, Any]]:
        """The newest texts of the service, a few pages deep (Notify lists newest first)."""
        texts: list[dict[str, Any]] = []
        older_than = None
        for _page in range(_RECONCILE_PAGES):
            page = self._client().get_all_notifications(template_type="sms", older_than=older_than)
            batch = page.get("notifications") or []
            texts.extend(batch)
            if not batch or not (page.get("links") or {}).get("next"):
                break
            older_than = batch[-1].get("id")
        return texts
