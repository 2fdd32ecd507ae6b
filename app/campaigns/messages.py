"""Opening texts for SMS attempts: who is writing and a number to call, never clinical detail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models import Campaign, ContactAttempt


@dataclass(frozen=True)
class PlainSmsComposer:
    """A fixed, non-clinical text inviting the patient to reply or call back.

    Used until a flow's own SMS opening (``app.flows.start_conversation``) is wired in.
    """

    organisation_name: str
    callback_number: str

    def compose(self, *, campaign: Campaign, attempt: ContactAttempt) -> tuple[str, dict[str, Any]]:
        """The message body and the conversation state to keep on the attempt."""
        body = (
            f"{self.organisation_name}: we tried to call you about your place on a hospital "
            f"waiting list. Please call us on {self.callback_number}. Reply STOP to opt out."
        )
        return body, {"composer": "plain", "campaign_id": campaign.id}
