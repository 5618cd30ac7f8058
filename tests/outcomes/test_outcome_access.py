"""Who may read a patient's outcomes (api-contract: care team and the patient). A record the
caller may not see answers 404 exactly like one that does not exist; admin may never use the
route (403)."""

from __future__ import annotations

import uuid

from tests.outcomes.outcome_helpers import (
    days_ago,
    outcomes_url,
    read_outcomes,
    submit_totals,
)
from tests.problems import assert_problem


def test_the_patient_and_the_care_team_read_the_same_outcomes(client, world):
    submit_totals(client, world.patient, days_ago(2), PHQ_9=12)
    submit_totals(client, world.patient, days_ago(1), PHQ_9=4)

    mine = read_outcomes(client, world.patient, world.patient)
    theirs = read_outcomes(client, world.clinician, world.patient)

    assert mine == theirs
    assert mine["PHQ-9"]["remission"] is True


def test_a_clinician_added_to_the_care_team_may_read(client, world):
    submit_totals(client, world.patient, days_ago(1), GAD_7=7)
    response = client.put(
        f"/api/v1/patients/{world.patient.id}/care-team/{world.lone_clinician.id}",
        headers=world.clinician.headers,
    )
    assert response.status_code in (200, 201, 204), response.get_json()

    body = read_outcomes(client, world.lone_clinician, world.patient)

    assert body["GAD-7"]["latest"] == 7


def not_found_body(client, actor, patient_id):
    response = client.get(outcomes_url(patient_id), headers=actor.headers)
    return assert_problem(response, 404)


def test_another_patients_outcomes_are_not_found(client, world):
    submit_totals(client, world.patient, days_ago(1), PHQ_9=20)

    hidden = not_found_body(client, world.other_patient, world.patient.id)
    missing = not_found_body(client, world.other_patient, str(uuid.uuid4()))

    assert hidden == missing


def test_an_outside_clinician_gets_the_same_404_as_for_no_patient(client, world):
    submit_totals(client, world.patient, days_ago(1), PHQ_9=20)

    for outsider in (world.other_clinician, world.lone_clinician):
        hidden = not_found_body(client, outsider, world.patient.id)
        missing = not_found_body(client, outsider, str(uuid.uuid4()))
        assert hidden == missing
        assert "20" not in str(hidden)


def test_admin_may_not_read_outcomes(client, world):
    submit_totals(client, world.patient, days_ago(1), PHQ_9=20)

    response = client.get(outcomes_url(world.patient.id), headers=world.admin.headers)

    assert_problem(response, 403)


def test_outcomes_need_a_token(client, world):
    response = client.get(outcomes_url(world.patient.id))

    assert_problem(response, 401)


def test_outcomes_are_the_patients_own(client, world):
    """Another patient's check-ins never leak into this patient's outcomes."""
    submit_totals(client, world.other_patient, days_ago(3), PHQ_9=2)
    submit_totals(client, world.patient, days_ago(2), PHQ_9=20)
    submit_totals(client, world.other_patient, days_ago(1), PHQ_9=24)

    mine = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]
    theirs = read_outcomes(client, world.other_clinician, world.other_patient)["PHQ-9"]

    assert (mine["baseline"], mine["latest"], len(mine["series"])) == (20, 20, 1)
    assert (theirs["baseline"], theirs["latest"], len(theirs["series"])) == (2, 24, 2)
    assert theirs["deterioration"] is True


def test_a_visible_patient_without_scores_has_empty_outcomes_not_a_404(client, world):
    # Outcomes are one statement with the visibility rule in it; only a patient without scores
    # asks again, and a visible one gets every instrument, empty.
    body = read_outcomes(client, world.clinician, world.patient)

    assert set(body) == {"PHQ-9", "GAD-7", "PCL-5"}
    assert all(outcome["baseline"] is None for outcome in body.values())
    assert all(outcome["series"] == [] for outcome in body.values())


def test_a_hidden_patient_without_scores_is_not_found_either(client, world):
    hidden = not_found_body(client, world.other_clinician, world.patient.id)
    missing = not_found_body(client, world.other_clinician, str(uuid.uuid4()))

    assert hidden == missing
