"""Every model, imported once so that `Base.metadata` knows every table (migrations, tests)."""

from telehealth.accounts.models import Invitation, Role, User
from telehealth.alerts.models import SafetyAlert
from telehealth.audit.models import AuditEvent
from telehealth.auth.models import TokenFamily
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.idempotency import IdempotencyRecord
from telehealth.monitoring.models import AdverseEvent, MonitoringNote, NoteAmendment
from telehealth.patients.models import CareTeamMember, Patient
from telehealth.sessions.models import SessionTransition, TreatmentSession

__all__ = [
    "AdverseEvent",
    "AuditEvent",
    "CareTeamMember",
    "IdempotencyRecord",
    "InstrumentScore",
    "Invitation",
    "MonitoringNote",
    "MoodCheckIn",
    "NoteAmendment",
    "Patient",
    "Role",
    "SafetyAlert",
    "SessionTransition",
    "TokenFamily",
    "TreatmentSession",
    "User",
]
