"""POST /users/{id}/deactivate (api-contract): admins only; the account's tokens stop working at
once and it cannot sign in; nothing is deleted; care-team lists show a deactivated clinician as
inactive; doing it again changes nothing.

A clinician who is the last active clinician of a patient stays active (tests/accounts/
test_deactivation_keeps_care_teams.py), so where world.clinician is deactivated here,
world.lone_clinician has joined world.patient's care team first (`backed_up`)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from telehealth.accounts.models import Role, User
from telehealth.alerts.models import SafetyAlert
from telehealth.auth.models import TokenFamily
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.extensions import db
from telehealth.monitoring.models import MonitoringNote
from telehealth.patients.models import CareTeamMember, Patient
from telehealth.sessions.models import TreatmentSession
from tests.factories import PASSWORD, make_user, sign_in
from tests.problems import assert_problem
from tests.record_rights.rights_helpers import (
    API,
    access_log_url,
    make_records,
    patient_url,
    random_id,
    stored_events,
)

USER_KEYS = {"id", "email", "name", "role", "is_active", "created_at"}


def deactivate_url(user_id: str) -> str:
    return f"{API}/users/{user_id}/deactivate"


def deactivate(client, actor, user_id):
    return client.post(deactivate_url(user_id), headers=actor.headers)


def login(client, email, password=PASSWORD):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password})


def me(client, actor):
    return client.get(f"{API}/me", headers=actor.headers)


def stored_user(app, user_id) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def families(app, user_id) -> list[TokenFamily]:
    with app.app_context():
        statement = select(TokenFamily).where(TokenFamily.user_id == user_id)
        return list(db.session.scalars(statement.order_by(TokenFamily.id)))


def counts(app) -> dict[str, int]:
    models = (User, Patient, CareTeamMember, TreatmentSession, MonitoringNote, MoodCheckIn)
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (*models, InstrumentScore, SafetyAlert)
        }


@pytest.fixture
def records(client, world):
    return make_records(client, world.clinician, world.patient)


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["clinician", "patient"])
def test_only_admins_may_deactivate(app, client, world, role):
    response = deactivate(client, getattr(world, role), world.other_patient.id)

    assert_problem(response, 403)
    assert stored_user(app, world.other_patient.user.id).is_active
    assert me(client, world.other_patient).status_code == 200


def test_a_clinician_cannot_deactivate_even_their_own_patient(app, client, world):
    assert_problem(deactivate(client, world.clinician, world.patient.id), 403)
    assert stored_user(app, world.patient.user.id).is_active


def test_without_a_token_it_is_401(client, world):
    assert_problem(client.post(deactivate_url(world.patient.id)), 401)


def test_an_unknown_user_is_404(client, world):
    assert_problem(deactivate(client, world.admin, random_id()), 404)


def test_an_admin_cannot_deactivate_themself(app, client, world):
    response = deactivate(client, world.admin, world.admin.id)

    assert_problem(response, 409)
    assert stored_user(app, world.admin.user.id).is_active
    assert me(client, world.admin).status_code == 200


def test_an_admin_may_deactivate_another_admin(app, client, world):
    other = sign_in(app, make_user(app, Role.ADMIN, name="Ben Admin"))

    assert deactivate(client, world.admin, other.id).status_code == 200
    assert_problem(me(client, other), 401)
    assert_problem(deactivate(client, other, world.admin.id), 401)
    assert stored_user(app, world.admin.user.id).is_active


# --- what it does, for a clinician and for a patient ------------------------------------------


def backed_up(client, world) -> None:
    """world.lone_clinician joins world.patient's care team, so world.clinician is no longer
    the patient's last active clinician."""
    url = f"{patient_url(world.patient.id)}/care-team/{world.lone_clinician.id}"
    assert client.put(url, headers=world.admin.headers).status_code == 200


@pytest.fixture(params=["clinician", "patient"])
def target(request, client, world):
    if request.param == "clinician":
        backed_up(client, world)
    return getattr(world, request.param)


def test_the_answer_is_the_account_now_inactive(client, world, target):
    response = deactivate(client, world.admin, target.id)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == USER_KEYS
    assert body["id"] == target.id
    assert body["role"] == target.user.role.value
    assert body["email"] == target.user.email
    assert body["is_active"] is False


def test_existing_access_tokens_are_refused_at_once(client, world, target):
    assert me(client, target).status_code == 200

    deactivate(client, world.admin, target.id)

    response = me(client, target)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Every route, not only /me.
    assert_problem(client.get(patient_url(world.patient.id), headers=target.headers), 401)


def test_every_sign_in_of_the_account_is_refused(app, client, world, target):
    second = sign_in(app, target.user)
    assert me(client, second).status_code == 200

    deactivate(client, world.admin, target.id)

    assert_problem(me(client, second), 401)
    stored = families(app, target.user.id)
    assert len(stored) == 2
    assert all(family.revoked_at is not None for family in stored)
    assert {family.revoked_reason for family in stored} == {"deactivated"}


def test_refresh_tokens_are_refused(client, world, target):
    deactivate(client, world.admin, target.id)

    response = client.post(
        f"{API}/auth/refresh", headers={"Authorization": f"Bearer {target.refresh_token}"}
    )

    assert_problem(response, 401)
    assert "access_token" not in response.get_data(as_text=True)


def test_login_is_refused_exactly_like_a_wrong_password(client, world, target):
    deactivate(client, world.admin, target.id)

    refused = login(client, target.user.email)
    wrong = login(client, world.other_patient.user.email, "not the password at all")

    assert_problem(refused, 401)
    assert_problem(wrong, 401)
    assert refused.get_json() == wrong.get_json()
    assert refused.headers.get("WWW-Authenticate") == wrong.headers.get("WWW-Authenticate")
    assert "deactivat" not in refused.get_data(as_text=True).lower()


def test_login_worked_before(client, world, target):
    """The control for the test above: the same credentials sign in while active."""
    response = login(client, target.user.email)
    assert response.status_code == 200
    assert response.get_json()["access_token"]


def test_other_accounts_keep_working(client, world, target):
    deactivate(client, world.admin, target.id)

    for actor in (world.other_patient, world.other_clinician, world.admin):
        assert me(client, actor).status_code == 200


def test_nothing_is_deleted(app, client, world, records, target):
    before = counts(app)

    deactivate(client, world.admin, target.id)

    assert counts(app) == before
    stored = stored_user(app, target.user.id)
    assert stored.is_active is False
    assert stored.deactivated_at is not None
    assert (stored.email, stored.name) == (target.user.email, target.user.name)


def test_deactivating_again_is_200_and_changes_nothing(app, client, world, records, target):
    first = deactivate(client, world.admin, target.id)
    deactivated_at = stored_user(app, target.user.id).deactivated_at
    revoked = [(family.id, family.revoked_at) for family in families(app, target.user.id)]
    before = counts(app)

    again = deactivate(client, world.admin, target.id)

    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert stored_user(app, target.user.id).deactivated_at == deactivated_at
    assert [(f.id, f.revoked_at) for f in families(app, target.user.id)] == revoked
    assert counts(app) == before
    events = stored_events(app, action="user.deactivate")
    assert [(str(e.resource_id), e.outcome, e.status_code) for e in events] == [
        (target.id, "success", 200),
        (target.id, "success", 200),
    ]


def test_a_pending_invitation_no_longer_lets_the_account_in(client, world):
    created = client.post(
        f"{API}/clinicians",
        json={"email": "dr.pending@example.test", "name": "Dr. Pending"},
        headers=world.admin.headers,
    ).get_json()

    deactivate(client, world.admin, created["id"])
    response = client.post(
        f"{API}/auth/activate",
        json={"token": created["invitation_token"], "password": PASSWORD},
    )

    assert_problem(response, 401)
    assert_problem(login(client, "dr.pending@example.test"), 401)


# --- the record stays readable ----------------------------------------------------------------


def test_a_deactivated_patients_record_stays_readable_by_the_care_team(client, world, records):
    deactivate(client, world.admin, world.patient.id)
    headers = world.clinician.headers

    patient = client.get(patient_url(world.patient.id), headers=headers)
    assert patient.status_code == 200
    assert patient.get_json()["is_active"] is False
    assert patient.get_json()["name"] == "Pat Able"

    session = client.get(f"{API}/sessions/{records.session_id}", headers=headers)
    assert session.status_code == 200
    assert session.get_json()["patient_id"] == world.patient.id

    note = client.get(f"{API}/notes/{records.note_id}", headers=headers)
    assert note.status_code == 200

    checkins = client.get(f"{patient_url(world.patient.id)}/checkins", headers=headers)
    assert [item["id"] for item in checkins.get_json()["items"]] == [records.checkin_id]
    checkin = client.get(f"{API}/checkins/{records.checkin_id}", headers=headers)
    assert checkin.get_json()["scores"]["GAD-7"]["total"] == 21

    listed = client.get(f"{API}/patients", headers=headers).get_json()["items"]
    assert [(item["id"], item["is_active"]) for item in listed] == [(world.patient.id, False)]


def test_an_admin_exports_a_deactivated_patients_whole_record(client, world, records):
    deactivate(client, world.admin, world.patient.id)

    response = client.get(f"{patient_url(world.patient.id)}/export", headers=world.admin.headers)

    assert response.status_code == 200
    record = json.loads(response.get_data(as_text=True))
    assert record["patient"]["is_active"] is False
    [session] = record["sessions"]
    assert session["id"] == records.session_id
    assert [note["id"] for note in session["monitoring_notes"]] == [records.note_id]
    assert [checkin["id"] for checkin in record["checkins"]] == [records.checkin_id]
    assert [alert["id"] for alert in record["alerts"]] == [records.alert_id]


def test_a_deactivated_patients_deactivation_shows_in_their_access_log(client, world):
    deactivate(client, world.admin, world.patient.id)

    items = client.get(access_log_url(world.patient.id), headers=world.clinician.headers)

    [entry] = items.get_json()["items"]
    assert entry["action"] == "user.deactivate"
    assert entry["actor"]["id"] == world.admin.id
    assert entry["resource_id"] == world.patient.id
    assert entry["outcome"] == "success"


def test_a_deactivated_clinician_shows_as_inactive_on_the_care_team(client, world, records):
    backed_up(client, world)

    assert deactivate(client, world.admin, world.clinician.id).status_code == 200

    patient = client.get(patient_url(world.patient.id), headers=world.admin.headers).get_json()
    assert [(member["id"], member["is_active"]) for member in patient["care_team"]] == [
        (world.clinician.id, False),
        (world.lone_clinician.id, True),
    ]
    # Putting them on the team again changes nothing and lists them the same way.
    again = client.put(
        f"{patient_url(world.patient.id)}/care-team/{world.lone_clinician.id}",
        headers=world.admin.headers,
    )
    assert again.status_code == 200
    members = {item["id"]: item["is_active"] for item in again.get_json()["items"]}
    assert members == {world.clinician.id: False, world.lone_clinician.id: True}

    seen_by_patient = client.get(patient_url(world.patient.id), headers=world.patient.headers)
    assert {m["id"]: m["is_active"] for m in seen_by_patient.get_json()["care_team"]} == members


def test_a_deactivated_clinician_is_listed_as_inactive(client, world):
    backed_up(client, world)
    assert deactivate(client, world.admin, world.clinician.id).status_code == 200

    listed = client.get(f"{API}/clinicians", headers=world.admin.headers).get_json()["items"]

    active = {item["id"]: item["is_active"] for item in listed}
    assert active[world.clinician.id] is False
    assert active[world.other_clinician.id] is True


def test_a_deactivated_clinicians_work_stays_readable(client, world, records):
    backed_up(client, world)
    assert deactivate(client, world.admin, world.clinician.id).status_code == 200

    for reader in (world.patient, world.lone_clinician):
        session = client.get(f"{API}/sessions/{records.session_id}", headers=reader.headers)
        assert session.status_code == 200
        assert session.get_json()["clinician_id"] == world.clinician.id
        note = client.get(f"{API}/notes/{records.note_id}", headers=reader.headers)
        assert note.status_code == 200
        assert note.get_json()["author_id"] == world.clinician.id
        checkins = client.get(f"{patient_url(world.patient.id)}/checkins", headers=reader.headers)
        assert [item["id"] for item in checkins.get_json()["items"]] == [records.checkin_id]


def test_a_deactivated_clinician_can_no_longer_act_on_the_record(client, world, records):
    backed_up(client, world)
    assert deactivate(client, world.admin, world.clinician.id).status_code == 200

    response = client.post(
        f"{API}/sessions/{records.session_id}/start", json={}, headers=world.clinician.headers
    )

    assert_problem(response, 401)
    session = client.get(f"{API}/sessions/{records.session_id}", headers=world.patient.headers)
    assert session.get_json()["status"] == "scheduled"
