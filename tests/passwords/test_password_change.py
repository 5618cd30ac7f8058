"""POST /api/v1/me/password: any signed-in user changes their password, giving the current one;
their other sign-ins end, the caller's stays. A wrong current password is refused and counts
towards a limit like sign-in's."""

from __future__ import annotations

import pytest

from tests.auth.helpers import (
    assert_problem,
    family_of,
    login,
    new_sign_in,
    refresh,
    revoked_reason,
    stored_password_hash,
    who_am_i,
)
from tests.factories import PASSWORD
from tests.passwords.password_helpers import CHANGE, NEW_PASSWORD, change, open_resets, reset_token
from tests.patients.helpers import audit_events

ROLES = ["admin", "clinician", "patient"]


@pytest.mark.parametrize("role", ROLES)
def test_any_user_changes_their_password(app, client, world, role):
    actor = getattr(world, role)

    response = change(client, actor.headers, PASSWORD)

    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.get_data() == b""
    assert_problem(login(client, actor.user.email, PASSWORD), 401)
    assert login(client, actor.user.email, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_other_sign_ins_end_and_the_caller_s_stays(app, client, world, role):
    actor = getattr(world, role)
    other = new_sign_in(client, actor.user)

    assert change(client, actor.headers, PASSWORD).status_code == 204

    assert who_am_i(client, actor.access_token).status_code == 200
    assert refresh(client, actor.refresh_token).status_code == 200
    assert_problem(who_am_i(client, other["access_token"]), 401)
    assert_problem(refresh(client, other["refresh_token"]), 401)
    assert revoked_reason(app, family_of(other["access_token"])) == "password_changed"
    # Someone else's sign-in is not touched.
    assert who_am_i(client, world.other_patient.access_token).status_code == 200


def test_a_wrong_current_password_is_refused_and_changes_nothing(app, client, world):
    other = new_sign_in(client, world.clinician.user)
    before = stored_password_hash(app, world.clinician.id)

    response = change(client, world.clinician.headers, "not the password at all")

    assert_problem(response, 422, "current_password")
    assert stored_password_hash(app, world.clinician.id) == before
    assert who_am_i(client, other["access_token"]).status_code == 200


@pytest.mark.parametrize("new", ["too short", " " * 20])
def test_the_new_password_follows_the_activation_rules(app, client, world, new):
    before = stored_password_hash(app, world.patient.id)

    response = change(client, world.patient.headers, PASSWORD, new)

    assert_problem(response, 422, "new_password")
    assert stored_password_hash(app, world.patient.id) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD, "new_password": 12345678901234}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "x" * 257}, "new_password"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "admin": True}, "admin"),
        ({"current_password": "nul\x00", "new_password": NEW_PASSWORD}, "current_password"),
    ],
)
def test_bad_input_is_422(client, world, body, field):
    assert_problem(client.post(CHANGE, json=body, headers=world.admin.headers), 422, field)


def test_without_a_token_it_is_401(client):
    assert_problem(client.post(CHANGE, json={"current_password": "a", "new_password": "b"}), 401)


def test_a_refresh_token_cannot_change_the_password(client, world):
    headers = {"Authorization": f"Bearer {world.patient.refresh_token}"}

    assert_problem(change(client, headers, PASSWORD), 401)


def test_a_change_ends_the_reset_links_still_outstanding(app, client, world):
    token = reset_token(app, world.patient.id)

    assert change(client, world.patient.headers, PASSWORD).status_code == 204

    assert open_resets(app, world.patient.id) == 0
    answer = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "x" * 20}
    )
    assert_problem(answer, 401)


def test_guesses_of_the_current_password_are_limited_like_sign_in(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ACCOUNT", "3/minute")
    for _ in range(3):
        assert_problem(change(client, world.clinician.headers, "a wrong guess"), 422)

    limited = change(client, world.clinician.headers, PASSWORD)

    assert_problem(limited, 429)
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # Per account: another user is not held up.
    assert change(client, world.patient.headers, PASSWORD).status_code == 204


def test_the_change_is_audited_without_the_passwords(app, client, world):
    assert change(client, world.patient.headers, PASSWORD).status_code == 204
    assert_problem(change(client, world.patient.headers, "a wrong guess"), 422)

    events = audit_events(app, action="auth.password_change")
    assert [(str(e.actor_id), e.resource_id, e.outcome) for e in events] == [
        (world.patient.id, world.patient.id, "success"),
        (world.patient.id, world.patient.id, "failed"),
    ]
    assert PASSWORD not in repr([vars(e) for e in events])
