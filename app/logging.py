"""Logging for operations teams: plain or JSON lines, each with the request id.

Patient data must never reach a log. Code logs ids (pathway id, attempt id), never names,
NHS numbers, phone numbers or answers; as a second line of defence a filter masks anything shaped
like an NHS number or a phone number before a record is written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_IDENTIFIER_SHAPES = re.compile(
    r"(?<![\w])(?:\+?44\s?\d{4}|\(?0\d{2,4}\)?)[\s-]?\d{3,4}[\s-]?\d{3,4}(?![\w])"  # UK phones
    r"|(?<!\d)\d{3}[\s-]?\d{3}[\s-]?\d{4}(?!\d)"  # NHS numbers, with or without separators
)


def redact(text: str) -> str:
    """Mask substrings shaped like NHS numbers or UK phone numbers."""
    return _IDENTIFIER_SHAPES.sub("[redacted]", text)


class RedactingFilter(logging.Filter):
    """Adds the request id and masks identifier-shaped text in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(*, level: str = "INFO", json_lines: bool = False) -> None:
    """Route the root logger (and uvicorn's) to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Access logs would carry callback URLs; our own middleware logs route templates instead.
    logging.getLogger("uvicorn.access").disabled = True
