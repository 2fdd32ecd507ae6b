"""A small GOV.UK Notify stand-in on loopback, speaking the API as Notify documents it.

It checks what the real service checks before sending: the ``Authorization: Bearer`` JWT
(HS256, signed with the API key's secret, ``iss`` the service id, ``iat`` within 30 seconds),
the template id, and the template's personalisation. It answers ``POST /v2/notifications/sms``
(201), ``GET /v2/notifications/{id}`` and ``GET /v2/notifications`` with Notify's shapes and its
error documents, and builds the delivery-status and received-text callbacks Notify would send.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"waitlist_test_key-{SERVICE_ID}-{SECRET}"
TEMPLATES = {
    "opening": "f33517ff-2a88-4f6e-b855-c550268ce08a",
    "reply": "0b3c4f3a-9d1e-4c55-8a8f-7d2c6a1e5b90",
    "courtesy": "6a1d7e2b-3c4f-4a5b-9c8d-1e2f3a4b5c6d",
    "pre_call": "3f9b2c1a-7e4d-4b8a-a6c5-2d1e0f9a8b7c",
    "reminder": "9e8d7c6b-5a4f-4e3d-b2c1-0a9f8e7d6c5b",
}
PLACEHOLDER = re.compile(r"\(\(([^)]+)\)\)")
INBOUND_NUMBER = "447700900000"


@dataclass
class Template:
    """A text message template: its content has ``((field))`` placeholders."""

    id: str
    content: str
    version: int = 1


@dataclass
class FakeNotify:
    """The service's state: templates, sent texts, and failures to give on request."""

    base_url: str = ""
    templates: dict[str, Template] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    # (HTTP status, Notify error name, message) answered to the next sends, in order.
    failures: list[tuple[int, str, str]] = field(default_factory=list)
    refused_tokens: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def callback_status(self, notification: dict[str, Any], status: str) -> dict[str, Any]:
        """The delivery-status callback Notify sends for ``notification``."""
        now = _now()
        return {
            "id": notification["id"],
            "reference": notification["reference"],
            "to": notification["phone_number"],
            "status": status,
            "created_at": notification["created_at"],
            "completed_at": now,
            "sent_at": now,
            "notification_type": "sms",
            "template_id": notification["template"]["id"],
            "template_version": notification["template"]["version"],
        }

    @staticmethod
    def callback_received(source_number: str, message: str) -> dict[str, Any]:
        """The received-text callback Notify sends (numbers as Notify writes them: 4477...)."""
        return {
            "id": str(uuid.uuid4()),
            "source_number": source_number.lstrip("+"),
            "destination_number": INBOUND_NUMBER,
            "message": message,
            "date_received": _now(),
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error(status: int, name: str, message: str) -> dict[str, Any]:
    return {"status_code": status, "errors": [{"error": name, "message": message}]}


class _Handler(BaseHTTPRequestHandler):
    notify: FakeNotify

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is the test's."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        try:
            if scheme != "Bearer":
                raise jwt.InvalidTokenError("no bearer token")
            claims = jwt.decode(
                token,
                SECRET,
                algorithms=["HS256"],
                options={"require": ["iss", "iat"]},
                leeway=0,
            )
        except jwt.InvalidTokenError:
            claims = None
        if claims is None or claims["iss"] != SERVICE_ID or abs(time.time() - claims["iat"]) > 30:
            with self.notify.lock:
                self.notify.refused_tokens += 1
            self._answer(
                403, _error(403, "AuthError", "Invalid token: signature, api token not found")
            )
            return False
        return True

    def do_POST(self) -> None:
        """Send a text message."""
        if not self._authorised():
            return
        if self.path != "/v2/notifications/sms":
            self._answer(404, _error(404, "NotFound", "Not found"))
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with self.notify.lock:
            failure = self.notify.failures.pop(0) if self.notify.failures else None
        if failure is not None:
            self._answer(failure[0], _error(*failure))
            return
        template = self.notify.templates.get(str(body.get("template_id")))
        if template is None:
            self._answer(400, _error(400, "BadRequestError", "Template not found"))
            return
        personalisation = body.get("personalisation") or {}
        missing = [f for f in PLACEHOLDER.findall(template.content) if f not in personalisation]
        if missing:
            message = "Missing personalisation: " + ", ".join(missing)
            self._answer(400, _error(400, "BadRequestError", message))
            return
        phone = str(body.get("phone_number", ""))
        if not re.fullmatch(r"\+?[0-9 ]{10,16}", phone):
            self._answer(400, _error(400, "ValidationError", "phone_number Not a UK mobile number"))
            return
        content = PLACEHOLDER.sub(lambda m: str(personalisation[m.group(1)]), template.content)
        notification_id = str(uuid.uuid4())
        template_ref = {
            "id": template.id,
            "version": template.version,
            "uri": f"{self.notify.base_url}/v2/template/{template.id}/version/{template.version}",
        }
        notification = {
            "id": notification_id,
            "reference": body.get("reference"),
            "phone_number": phone,
            "type": "sms",
            "status": "created",
            "template": template_ref,
            "body": content,
            "personalisation": personalisation,
            "sms_sender_id": body.get("sms_sender_id"),
            "created_at": _now(),
            "created_by_name": None,
            "sent_at": None,
            "completed_at": None,
        }
        with self.notify.lock:
            self.notify.sent.append(notification)
        self._answer(
            201,
            {
                "id": notification_id,
                "reference": body.get("reference"),
                "content": {"body": content, "from_number": "GOVUK"},
                "uri": f"{self.notify.base_url}/v2/notifications/{notification_id}",
                "template": template_ref,
                "scheduled_for": None,
            },
        )

    def do_GET(self) -> None:
        """A message's status, or the service's messages (newest first)."""
        if not self._authorised():
            return
        url = urlsplit(self.path)
        with self.notify.lock:
            sent = list(self.notify.sent)
        if url.path == "/v2/notifications":
            query = parse_qs(url.query)
            found = [
                n
                for n in reversed(sent)
                if n["type"] in query.get("template_type", [n["type"]])
                and n["reference"] in query.get("reference", [n["reference"]])
            ]
            self._answer(
                200,
                {
                    "notifications": found,
                    "links": {"current": f"{self.notify.base_url}{self.path}", "next": None},
                },
            )
            return
        match = re.fullmatch(r"/v2/notifications/([^/]+)", url.path)
        if match is None:
            self._answer(404, _error(404, "NotFound", "Not found"))
            return
        try:
            uuid.UUID(match.group(1))
        except ValueError:
            message = "notification_id is not a valid UUID"
            self._answer(400, _error(400, "ValidationError", message))
            return
        for notification in sent:
            if notification["id"] == match.group(1):
                self._answer(200, notification)
                return
        self._answer(404, _error(404, "NoResultFound", "No result found"))


def default_templates() -> dict[str, Template]:
    """One template per kind of text, each carrying the script's words in ``((message))``."""
    return {template: Template(template, "((message))") for template in TEMPLATES.values()}


@contextmanager
def fake_notify() -> Iterator[FakeNotify]:
    """A Notify stand-in on a free loopback port, for the length of the block."""
    notify = FakeNotify(templates=default_templates())
    handler = type("Handler", (_Handler,), {"notify": notify})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    notify.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield notify
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
