"""Every model, imported once so that `Base.metadata` knows every table (migrations, tests)."""

# Channels register themselves with the outbound registry on import: email (telehealth.mail).
import telehealth.mail.channel
import telehealth.webhooks.channel  # noqa: F401 - and webhooks (telehealth.webhooks)
from telehealth.accounts.models import Invitation, Role, User
from telehealth.alerts.models import SafetyAlert
from telehealth.audit.models import AuditEvent
from telehealth.auth.models import TokenFamily
from telehealth.calendar.models import CalendarSubscription
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.idempotency import IdempotencyRecord
from telehealth.monitoring.models import AdverseEvent, MonitoringNote, NoteAmendment
from telehealth.outbound.models import Delivery, Notification, OutboxEvent
from telehealth.passwords.models import PasswordReset
from telehealth.patients.models import CareTeamMember, Patient
from telehealth.schedules.models import CheckinPlan, CheckinPlanItem, CheckinReminder
from telehealth.sessions.models import SessionReminder, SessionTransition, TreatmentSession
from telehealth.webhooks.models import WebhookEndpoint

__all__ = [
    "AdverseEvent",
    "AuditEvent",
    "CalendarSubscription",
    "CareTeamMember",
    "CheckinPlan",
    "CheckinPlanItem",
    "CheckinReminder",
    "Delivery",
    "IdempotencyRecord",
    "InstrumentScore",
    "Invitation",
    "MonitoringNote",
    "MoodCheckIn",
    "NoteAmendment",
    "Notification",
    "OutboxEvent",
    "PasswordReset",
    "Patient",
    "Role",
    "SafetyAlert",
    "SessionReminder",
    "SessionTransition",
    "TokenFamily",
    "TreatmentSession",
    "User",
    "WebhookEndpoint",
]
