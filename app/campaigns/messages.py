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
from app.errors import NotFoundError
from app.flows import LoadedScript, Reply, render_notice, render_sms, start_conversation
from app.models import CallScript, Campaign, ContactAttempt


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

    def notice_text(
        self, session: Session, *, campaign: Campaign, call_script_id: int | None, kind: str
    ) -> str | None:
        """A notice's words from the script the patient's contact runs (their language's, else
        the campaign's), exactly as approved; None if it has none for ``kind`` or has changed."""
        script_row = session.get(CallScript, call_script_id or campaign.call_script_id)
        if script_row is None:
            return None
        try:
            script = self.context.registry.get(script_row.flow_id)
        except NotFoundError:
            return None
        if script.content_hash != script_row.content_hash:
            return None  # the file changed since: what goes out must be what was approved
        return render_notice(
            script.flow,
            kind,
            organisation_name=self.context.organisation_name,
            callback_number=self.context.callback_number,
        )
