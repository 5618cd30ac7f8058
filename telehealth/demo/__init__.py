"""The demo clinic (`flask --app wsgi demo-data`): a plan of the clinic as data (`plan`), laid
out as steps on a calendar (`timeline`, with the symptom courses of `course`), each step's work
through the API's services (`actions`), and the builder that replays the eight weeks
(`builder`)."""

from __future__ import annotations

from telehealth.demo.builder import Builder, exists
from telehealth.demo.plan import ADMIN, CLINICIANS, PASSWORD, PATIENTS, SEED
from telehealth.demo.timeline import steps

__all__ = ["SEED", "Builder", "exists", "logins", "steps"]

#: The patients whose logins are printed: a responder, and the one whose course turns worse.
SHOWN_PATIENTS = ("patient@demo.example", "riley.chen@demo.example")


def logins(base_url: str = "http://127.0.0.1:5000") -> str:
    """How to sign in: every clinician, two patients and the admin, and a ready curl."""
    names = {patient.email: patient.name for patient in PATIENTS}
    rows = [("admin", *ADMIN)]
    rows += [("clinician", clinician.email, clinician.name) for clinician in CLINICIANS]
    rows += [("patient", email, names[email]) for email in SHOWN_PATIENTS]
    lines = [f"Demo logins (the password of each: {PASSWORD}):"]
    lines += [f"  {role:<9} {email:<28} {name}" for role, email, name in rows]
    lines.append(
        f"Sign in: curl -s -X POST {base_url}/api/v1/auth/login "
        "-H 'Content-Type: application/json' "
        f'-d \'{{"email": "{CLINICIANS[0].email}", "password": "{PASSWORD}"}}\''
    )
    return "\n".join(lines)
