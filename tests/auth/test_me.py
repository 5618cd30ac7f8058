"""GET /me answers the caller's own account, whatever their role."""

from __future__ import annotations

import pytest

from tests.auth.helpers import ME

ROLES = {
    "admin": "admin",
    "clinician": "clinician",
    "other_clinician": "clinician",
    "patient": "patient",
    "other_patient": "patient",
}


@pytest.mark.parametrize(("actor_name", "role"), ROLES.items())
def test_me_answers_the_callers_own_account(client, world, actor_name, role):
    actor = getattr(world, actor_name)

    response = client.get(ME, headers=actor.headers)

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["role"], body["email"]) == (actor.id, role, actor.user.email)
    assert body["is_active"] is True
    assert not {"password", "password_hash"} & body.keys()
