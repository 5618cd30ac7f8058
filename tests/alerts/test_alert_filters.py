"""GET /alerts filters and oversight (api-contract additions): `status` (open, acknowledged,
all), `patient_id` (a patient the caller may not see answers 404, exactly like a patient that
does not exist), `kind`; an admin lists every patient's alerts but acknowledging stays with
the care team; unknown query parameters are 422."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from telehealth.audit.models import AuditEvent
from telehealth.extensions import db
from tests.alerts.alert_helpers import (
    ALERTS,
    ack_url,
    list_all,
    list_page,
    random_id,
    severe_score,
    stored_alerts,
    suicidal_ideation,
)
from tests.problems import assert_problem


@dataclass(frozen=True)
class Raised:
    """world.patient's suicidal-ideation and severe-score alerts, then world.other_patient's
    severe-score alert, in that order."""

    suicidal: str
    severe: str
    theirs: str


@pytest.fixture
def raised(client, world) -> Raised:
    return Raised(
        suicidal=suicidal_ideation(client, world.patient)["alerts"][0]["id"],
        severe=severe_score(client, world.patient)["alerts"][0]["id"],
        theirs=severe_score(client, world.other_patient)["alerts"][0]["id"],
    )


def ids(items):
    return [item["id"] for item in items]


def acknowledge(client, actor, alert_id):
    response = client.post(ack_url(alert_id), headers=actor.headers, json={"note": "Called."})
    assert response.status_code == 200, response.get_json()


# --- patient_id -----------------------------------------------------------------------------


def test_a_clinician_lists_one_care_team_patients_alerts(client, world, raised):
    listed = list_all(client, world.clinician.headers, patient_id=world.patient.id)

    assert ids(listed) == [raised.suicidal, raised.severe]
    assert {item["patient_id"] for item in listed} == {world.patient.id}


def test_another_clinician_lists_their_own_patient(client, world, raised):
    listed = list_all(client, world.other_clinician.headers, patient_id=world.other_patient.id)

    assert ids(listed) == [raised.theirs]


@pytest.mark.parametrize(
    ("clinician", "patient"),
    [
        ("clinician", "other_patient"),
        ("other_clinician", "patient"),
        ("lone_clinician", "patient"),
    ],
)
def test_a_patient_outside_the_care_team_is_the_same_404_as_no_patient(
    client, world, raised, clinician, patient
):
    headers = getattr(world, clinician).headers

    hidden = client.get(
        ALERTS, headers=headers, query_string={"patient_id": getattr(world, patient).id}
    )
    missing = client.get(ALERTS, headers=headers, query_string={"patient_id": random_id()})

    assert_problem(hidden, 404)
    assert_problem(missing, 404)
    assert hidden.get_json() == missing.get_json()


def test_an_admin_lists_any_patients_alerts(client, world, raised):
    mine = list_all(client, world.admin.headers, patient_id=world.patient.id)
    theirs = list_all(client, world.admin.headers, patient_id=world.other_patient.id)
    nobody = client.get(
        ALERTS, headers=world.admin.headers, query_string={"patient_id": random_id()}
    )

    assert ids(mine) == [raised.suicidal, raised.severe]
    assert ids(theirs) == [raised.theirs]
    assert_problem(nobody, 404)


@pytest.mark.parametrize("value", ["not-a-uuid", "1", ""])
def test_a_patient_id_that_is_not_a_uuid_is_refused(client, world, value):
    response = client.get(
        ALERTS, headers=world.clinician.headers, query_string={"patient_id": value}
    )

    assert_problem(response, 422, "patient_id")


def test_the_audit_event_of_a_filtered_list_names_the_patient(app, client, world, raised):
    list_page(client, world.clinician.headers, patient_id=world.patient.id)

    with app.app_context():
        events = list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.list"))
        )
    assert [event.patient_id for event in events] == [uuid.UUID(world.patient.id)]


# --- kind -----------------------------------------------------------------------------------


def test_the_kind_filter_keeps_one_kind(client, world, raised):
    for_clinician = list_all(client, world.clinician.headers, kind="severe_score")
    for_admin = list_all(client, world.admin.headers, kind="severe_score")
    none_yet = list_all(client, world.admin.headers, kind="missed_checkins")

    assert ids(for_clinician) == [raised.severe]
    assert ids(for_admin) == [raised.severe, raised.theirs]
    assert none_yet == []


@pytest.mark.parametrize("kind", ["severe", "Severe_score", "SEVERE_SCORE", "", "dose"])
def test_an_unknown_kind_is_refused(client, world, kind):
    response = client.get(ALERTS, headers=world.clinician.headers, query_string={"kind": kind})

    assert_problem(response, 422, "kind")


# --- status ---------------------------------------------------------------------------------


def test_status_all_lists_open_and_acknowledged_alerts_in_one_order(client, world, raised):
    acknowledge(client, world.clinician, raised.suicidal)

    everything = list_all(client, world.clinician.headers, status="all")
    still_open = list_all(client, world.clinician.headers)
    done = list_all(client, world.clinician.headers, status="acknowledged")

    assert ids(everything) == [raised.suicidal, raised.severe]
    assert [item["status"] for item in everything] == ["acknowledged", "open"]
    assert ids(still_open) == [raised.severe]
    assert ids(done) == [raised.suicidal]


def test_an_admin_filters_by_status_too(client, world, raised):
    acknowledge(client, world.other_clinician, raised.theirs)

    assert ids(list_all(client, world.admin.headers)) == [raised.suicidal, raised.severe]
    assert ids(list_all(client, world.admin.headers, status="acknowledged")) == [raised.theirs]
    assert ids(list_all(client, world.admin.headers, status="all")) == [
        raised.suicidal,
        raised.severe,
        raised.theirs,
    ]


def test_the_filters_combine(client, world, raised):
    acknowledge(client, world.clinician, raised.severe)

    found = list_all(
        client,
        world.clinician.headers,
        patient_id=world.patient.id,
        kind="severe_score",
        status="all",
    )
    found_open = list_all(
        client, world.clinician.headers, patient_id=world.patient.id, kind="severe_score"
    )
    by_admin = list_all(
        client, world.admin.headers, patient_id=world.patient.id, kind="severe_score", status="all"
    )

    assert ids(found) == [raised.severe]
    assert found_open == []
    assert by_admin == found


# --- oversight ------------------------------------------------------------------------------


def test_an_admin_lists_every_patients_alerts_most_urgent_then_oldest(client, world, raised):
    listed = list_all(client, world.admin.headers)

    assert ids(listed) == [raised.suicidal, raised.severe, raised.theirs]
    assert {item["patient_id"] for item in listed} == {world.patient.id, world.other_patient.id}
    assert ids(list_all(client, world.clinician.headers)) == [raised.suicidal, raised.severe]
    assert ids(list_all(client, world.lone_clinician.headers)) == []


@pytest.mark.parametrize("limit", [1, 2])
def test_an_admin_pages_through_every_patients_alerts(client, world, raised, limit):
    pages, cursor = [], None
    while True:
        page = list_page(
            client, world.admin.headers, limit=limit, **({"cursor": cursor} if cursor else {})
        )
        pages.append(ids(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert all(len(page) == limit for page in pages[:-1])
    assert [alert for page in pages for alert in page] == [
        raised.suicidal,
        raised.severe,
        raised.theirs,
    ]


def test_an_admin_sees_an_alert_but_may_not_acknowledge_it(client, world, raised):
    response = client.post(ack_url(raised.suicidal), headers=world.admin.headers, json={})

    assert_problem(response, 403)
    assert [
        row.status.value for row in stored_alerts(client.application, kind="suicidal_ideation")
    ] == ["open"]
    assert raised.suicidal in ids(list_all(client, world.admin.headers))


# --- the query itself -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["patient", "priority", "kinds", "status[]"])
@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_an_unknown_query_parameter_is_refused(client, world, name, role):
    response = client.get(ALERTS, headers=getattr(world, role).headers, query_string={name: "x"})

    assert_problem(response, 422, name)
