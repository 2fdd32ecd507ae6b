"""ORM tables, one module per aggregate; importing this package registers them all."""

from app.models.audit import AuditEvent
from app.models.campaign import (
    AttemptStatus,
    Campaign,
    CampaignStatus,
    Channel,
    ContactAttempt,
    RateBudget,
)
from app.models.cohort import Cohort, ImportJob, ImportRowError, ImportStatus
from app.models.eligibility import Exclusion
from app.models.flow import CallScript
from app.models.notice import ContactNotice, NoticeKind, NoticeStatus
from app.models.outcome import Answer, PathwayOutcome
from app.models.patient import DEFINITIVE_OUTCOMES, Outcome, Pathway, PathwayStatus, Patient
from app.models.review import ClinicalDecision, Decision, ReviewItem, ReviewStatus
from app.models.user import ApiToken, LoginAttempt, Role, User, UserSession
from app.models.validation import (
    RoundStatus,
    ScheduleStatus,
    ValidationRound,
    ValidationSchedule,
)
from app.models.webhook import WebhookEvent
from app.models.worklist import Letter, LetterKind, TaskReason, TaskState, WorklistTask

__all__ = [
    "DEFINITIVE_OUTCOMES",
    "Answer",
    "ApiToken",
    "AttemptStatus",
    "AuditEvent",
    "CallScript",
    "Campaign",
    "CampaignStatus",
    "Channel",
    "ClinicalDecision",
    "Cohort",
    "ContactAttempt",
    "ContactNotice",
    "Decision",
    "Exclusion",
    "ImportJob",
    "ImportRowError",
    "ImportStatus",
    "Letter",
    "LetterKind",
    "LoginAttempt",
    "NoticeKind",
    "NoticeStatus",
    "Outcome",
    "Pathway",
    "PathwayOutcome",
    "PathwayStatus",
    "Patient",
    "RateBudget",
    "ReviewItem",
    "ReviewStatus",
    "Role",
    "RoundStatus",
    "ScheduleStatus",
    "TaskReason",
    "TaskState",
    "User",
    "UserSession",
    "ValidationRound",
    "ValidationSchedule",
    "WebhookEvent",
    "WorklistTask",
]
