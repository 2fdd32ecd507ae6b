"""Opening texts for SMS attempts: the approved script's own first message, never free text.

The text and the state come from ``app.flows.start_conversation`` for the campaign's exact script
(same id, version and content hash); the state is kept on the attempt in the shape the inbound-SMS
handler (``app.conversations.dialogue``) reads, so the patient's reply continues the same script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.conversations.context import ConversationContext
from app.conversations.dialogue import CannotRun, load_subject
from app.flows import LoadedScript, Reply, render_sms, start_conversation
from app.models import ContactAttempt


def opening_conversation(reply: Reply, script: LoadedScript) -> dict[str, Any]:
    """``contact_attempt.conversation`` after the opening (turn 0), as ``dialogue`` keeps it."""
    return {
        "state": reply.state,
        "turn": 0,
        "step": reply.question.step if reply.question else None,
        "outcome": reply.outcome,
        "flow_id": script.id,
        "flow_version": script.version,
        "flow_hash": script.content_hash,
    }


@dataclass(frozen=True)
class ScriptSmsComposer:
    """Writes an SMS attempt's opening from the campaign's approved script."""

    context: ConversationContext

    def compose(
        self, session: Session, *, attempt: ContactAttempt
    ) -> tuple[str, dict[str, Any]] | None:
        """The message body and the conversation to keep; None if the script cannot run.

        A script whose file changed since the campaign started (or disappeared) sends nothing:
        what a patient reads must be exactly what was approved.
        """
        subject = load_subject(session, attempt=attempt, context=self.context)
        if isinstance(subject, CannotRun):
            return None
        reply = start_conversation(subject.script, subject.facts, channel="sms")
        return render_sms(reply, subject.script), opening_conversation(reply, subject.script)
