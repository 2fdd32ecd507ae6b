"""What conversation handling needs from the process: scripts (loaded once) and public facts."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from app.flows import ScriptRegistry


@dataclass(frozen=True)
class ConversationContext:
    """Built once at start-up (no file reads or script parsing inside a request)."""

    registry: ScriptRegistry
    public_base_url: str
    organisation_name: str
    callback_number: str

    def gather_url(self, token: str, *, step: str, number: int) -> str:
        """The absolute action URL of a question: the step and the turn make its answer unique."""
        path = f"/webhooks/twilio/voice/{token}/gather"
        return f"{self.public_base_url}{path}?step={quote(step, safe='')}&n={number}"
