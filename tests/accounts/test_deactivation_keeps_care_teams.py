"""POST /users/{id}/deactivate never leaves a patient without an active clinician: a clinician
who is the last active clinician of any patient stays active, and the 409 names those patients
(`patient_ids`, ids only) until someone else joins their care teams. Nothing changes on a
refusal. (What deactivation does otherwise is in tests/record_rights/test_deactivation.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from telehealth.accounts.models import Role
from telehealth.auth.models import TokenFamily
from telehealth.extensions import db
from tests.factories import make_patient, make_user, sign_in
from tests.patients.helpers import (
    API,
    assert_problem,
    audit_events,
    care_team_url,
    deactivate,
    random_id,
    stored_user,
)


def deactivate_url(user_id: str) -> str:
    return f"{API}/users/{user_id}/deactivate"


def post_deactivate(client, actor, user_id):
    return client.post(deactivate_url(user_id), headers=actor.headers)


def join(client, world, patient_id, clinician_id) -> None:
    response = client.put(care_team_url(patient_id, clinician_id), headers=world.admin.headers)
    assert response.status_code == 200, response.get_json()


def revoked_families(app, user_id: str) -> list[object]:
    with app.app_context():
        statement = select(TokenFamily.revoked_at).where(TokenFamily.user_id == user_id)
        return [revoked for revoked in db.session.scalars(statement) if revoked is not None]


def test_the_last_active_clinician_of_a_patient_stays_active(app, client, world):
    response = post_deactivate(client, world.admin, world.clinician.id)

    problem = assert_problem(response, 409)
    assert problem["patient_ids"] == [world.patient.id]
    assert world.patient.id in problem["detail"]
    for person in (world.patient, world.clinician):
        assert person.user.name not in str(problem)
        assert person.user.email not in str(problem)
    # Nothing changed: still active, still signed in, the patient still watched.
    assert stored_user(app, world.clinician.id).is_active
    assert stored_user(app, world.clinician.id).deactivated_at is None
    assert revoked_families(app, world.clinician.user.id) == []
    assert client.get(f"{API}/me", headers=world.clinician.headers).status_code == 200
    [event] = audit_events(app, action="user.deactivate")
    assert (event.outcome, event.status_code) == ("failed", 409)


def test_every_patient_left_without_one_is_named_in_id_order(app, client, world):
    second = make_patient(app, world.clinician.user, name="Second Patient")
    shared = make_patient(app, world.clinician.user, name="Shared Patient")
    join(client, world, str(shared.id), world.lone_clinician.id)

    response = post_deactivate(client, world.admin, world.clinician.id)

    expected = sorted([world.patient.id, str(second.id)])
    problem = assert_problem(response, 409)
    assert problem["patient_ids"] == expected
    assert all(patient_id in problem["detail"] for patient_id in expected)
    assert str(shared.id) not in str(problem)


def test_an_inactive_teammate_does_not_count(app, client, world):
    join(client, world, world.patient.id, world.lone_clinician.id)
    deactivate(app, world.lone_clinician.id)

    response = post_deactivate(client, world.admin, world.clinician.id)

    assert assert_problem(response, 409)["patient_ids"] == [world.patient.id]
    assert stored_user(app, world.clinician.id).is_active


def test_once_another_active_clinician_joins_the_deactivation_goes_through(app, client, world):
    assert_problem(post_deactivate(client, world.admin, world.clinician.id), 409)
    join(client, world, world.patient.id, world.lone_clinician.id)

    response = post_deactivate(client, world.admin, world.clinician.id)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["is_active"] is False
    assert not stored_user(app, world.clinician.id).is_active
    assert_problem(client.get(f"{API}/me", headers=world.clinician.headers), 401)
    # ...and now the one who joined is the patient's last active clinician in turn.
    refused = post_deactivate(client, world.admin, world.lone_clinician.id)
    assert assert_problem(refused, 409)["patient_ids"] == [world.patient.id]


def test_a_clinician_on_no_care_team_is_deactivated(app, client, world):
    response = post_deactivate(client, world.admin, world.lone_clinician.id)

    assert response.status_code == 200, response.get_json()
    assert not stored_user(app, world.lone_clinician.id).is_active


def test_deactivating_an_already_inactive_clinician_stays_a_no_op(app, client, world):
    """Even when their patient has no active clinician (a state from before the rule): there
    is nothing left to refuse."""
    deactivate(app, world.clinician.id)
    before = stored_user(app, world.clinician.id)

    response = post_deactivate(client, world.admin, world.clinician.id)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["is_active"] is False
    after = stored_user(app, world.clinician.id)
    assert (after.is_active, after.deactivated_at) == (False, before.deactivated_at)


def test_patients_and_admins_are_deactivated_whatever_their_care_teams(app, client, world):
    other_admin = sign_in(app, make_user(app, Role.ADMIN, name="Ben Admin"))

    assert post_deactivate(client, world.admin, world.patient.id).status_code == 200
    assert post_deactivate(client, world.admin, other_admin.id).status_code == 200


@pytest.mark.parametrize("actor", ["clinician", "other_clinician", "patient"])
def test_only_admins_may_deactivate_a_clinician(app, client, world, actor):
    join(client, world, world.patient.id, world.lone_clinician.id)

    response = post_deactivate(client, getattr(world, actor), world.clinician.id)

    assert_problem(response, 403)
    assert stored_user(app, world.clinician.id).is_active


def test_an_unknown_user_is_404_not_a_conflict(client, world):
    problem = assert_problem(post_deactivate(client, world.admin, random_id()), 404)

    assert "patient_ids" not in problem
