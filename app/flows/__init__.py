"""Call scripts from ``call_flows/*.yaml``: schema, approval, lint, the step engine, rendering."""

from app.flows.approval import Approval, UnapprovedScriptError, require_approved
from app.flows.conversation import Heard, Question, RecordedAnswer, Reply
from app.flows.engine import continue_conversation, start_conversation, voicemail_message
from app.flows.loading import (
    FlowError,
    LoadedScript,
    Problem,
    ScriptRegistry,
    load_registry,
    load_script,
)
from app.flows.notices import notice_kinds, render_notice
from app.flows.rendering import render_sms, voice_prompt
from app.flows.store import ensure_call_script
from app.flows.templates import PatientFacts

__all__ = [
    "Approval",
    "FlowError",
    "Heard",
    "LoadedScript",
    "PatientFacts",
    "Problem",
    "Question",
    "RecordedAnswer",
    "Reply",
    "ScriptRegistry",
    "UnapprovedScriptError",
    "continue_conversation",
    "ensure_call_script",
    "load_registry",
    "load_script",
    "notice_kinds",
    "render_notice",
    "render_sms",
    "require_approved",
    "start_conversation",
    "voice_prompt",
    "voicemail_message",
]
