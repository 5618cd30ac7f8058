"""Every model, imported once so that `Base.metadata` knows every table (migrations, tests)."""

from telehealth.accounts.models import Invitation, Role, User
from telehealth.audit.models import AuditEvent
from telehealth.auth.models import TokenFamily
from telehealth.patients.models import CareTeamMember, Patient

__all__ = ["AuditEvent", "CareTeamMember", "Invitation", "Patient", "Role", "TokenFamily", "User"]
