"""One record, two formats, the same facts: every fact of the JSON export (each field of each
item, with the items it belongs to) is found, with the same value, in the FHIR Bundle of the
same record, at the place `parity_map.MAPPING` names. A JSON field with no place in the mapping
fails the test, so a field added to the JSON export must be added to the FHIR export too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from telehealth.alerts.models import AlertKind, AlertSource, SafetyAlert
from telehealth.extensions import db
from telehealth.monitoring.models import Checkpoint
from telehealth.sessions.models import SessionStatus, SessionTransition
from tests.export.export_helpers import (
    API,
    Record,
    build_record,
    exported_ok,
    rfc3339,
)
from tests.export.parity_map import MAPPING, Fhir, leaves
from tests.factories import Actor

MARKER = "parity-marker"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "export.md"


def same(found: Any, expected: Any) -> bool:
    """Equal, or (two timestamps written differently) the same instant."""
    if found == expected:
        return True
    if isinstance(found, str) and isinstance(expected, str):
        try:
            return datetime.fromisoformat(found) == datetime.fromisoformat(expected)
        except ValueError:
            return False
    return False


def differences(body: dict[str, Any], bundle: dict[str, Any]) -> dict[str, list[str]]:
    """What of the JSON export the bundle does not say: fields with no mapping, and facts
    found with another value (or not at all)."""
    fhir = Fhir(bundle)
    unmapped: set[str] = set()
    wrong: list[str] = []
    for pattern, value, scope in leaves(body):
        where = MAPPING.get(pattern)
        if where is None:
            unmapped.add(pattern)
            continue
        try:
            found = where.read(fhir, scope)
        except (KeyError, IndexError, TypeError, ValueError, AssertionError) as error:
            wrong.append(f"{pattern} = {value!r}: not found ({error!r})")
            continue
        if where.object:
            found, value = bool(found), value is not None
        if not same(found, value):
            wrong.append(f"{pattern}: JSON {value!r}, FHIR {found!r} ({where.fhir})")
    return {"unmapped": sorted(unmapped), "wrong": wrong}


def both(client: FlaskClient, actor: Actor) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both exports, taken at the same instant (so `exported_at` is the same too)."""
    with time_machine.travel(datetime.now(UTC), tick=False):
        body = exported_ok(client, actor, actor.id).json()
        bundle = exported_ok(client, actor, actor.id, format="fhir").json()
    return body, bundle


def _post(client: FlaskClient, actor: Actor, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}{url}", headers=actor.headers, json=body)
    assert response.status_code in (200, 201), (url, response.get_json())
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def rich(app: Flask, client: FlaskClient, world: Any) -> Record:
    """`build_record`'s record, and what it leaves unset: a check-in tied to a session, made
    after it, with every optional field; an overdue-checkpoint alert escalated once; a session
    cancelled by an admin (someone with no entry of their own in the bundle)."""
    record = build_record(client, world.clinician, world.patient, MARKER)
    sid = record.completed["id"]
    _post(
        client,
        world.patient,
        "/checkins",
        {
            "recorded_at": rfc3339(datetime.now(UTC) - timedelta(hours=1)),
            "mood": 8,
            "anxiety": 2,
            "sleep_hours": 7.5,
            "note": f"After the session. {MARKER}",
            "context": "post_session",
            "session_id": sid,
        },
    )
    with app.app_context(), db.begin() as session:
        now = datetime.now(UTC)
        session.add(
            SafetyAlert(
                patient_id=uuid.UUID(world.patient.id),
                kind=AlertKind.CHECKPOINT_OVERDUE,
                priority=AlertKind.CHECKPOINT_OVERDUE.priority,
                source_type=AlertSource.SESSION.value,
                source_id=uuid.UUID(sid),
                occurrence=Checkpoint.END_OF_SESSION.value,
                session_id=uuid.UUID(sid),
                checkpoint=Checkpoint.END_OF_SESSION,
                reason="End-of-session checkpoint overdue.",
                escalation_level=1,
                escalated_at=now,
                created_at=now - timedelta(minutes=30),
            )
        )
        cancelled = session.scalars(
            select(SessionTransition).where(
                SessionTransition.session_id == uuid.UUID(record.cancelled["id"]),
                SessionTransition.to_status == SessionStatus.CANCELLED,
            )
        ).one()
        cancelled.actor_id = world.admin.user.id
    return record


def test_every_fact_of_the_json_export_is_in_the_fhir_bundle_with_the_same_value(
    client: FlaskClient, world: Any, rich: Record
) -> None:
    body, bundle = both(client, world.patient)

    found = differences(body, bundle)

    assert found["unmapped"] == [], "JSON fields the FHIR export does not carry"
    assert found["wrong"] == []


def test_the_rich_record_sets_every_mapped_field_at_least_once(
    client: FlaskClient, world: Any, rich: Record
) -> None:
    """So the parity test compares values, not only absences: each field of the mapping is
    in the record with a value (a note's adverse event is itself an object, read by its
    fields)."""
    body, _ = both(client, world.patient)
    valued = {pattern for pattern, value, _ in leaves(body) if value not in (None, [])}
    objects = {pattern for pattern, where in MAPPING.items() if where.object}

    assert sorted(set(MAPPING) - valued - objects) == []


def test_a_sparse_record_says_nothing_in_fhir_that_json_leaves_empty(
    client: FlaskClient, world: Any
) -> None:
    """A session only scheduled and a check-in of mood alone: what JSON gives as null FHIR
    leaves out, and the walk finds each absence where the mapping looks."""
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    _post(
        client,
        world.clinician,
        "/sessions",
        {
            "patient_id": world.patient.id,
            "scheduled_start": rfc3339(start),
            "duration_minutes": 90,
            "modality": "phone",
            "treatment_monitor": {"name": "Sam Sitter", "phone": "+1 555 0100"},
        },
    )
    _post(
        client, world.patient, "/checkins", {"recorded_at": rfc3339(datetime.now(UTC)), "mood": 5}
    )
    body, bundle = both(client, world.patient)
    (session,) = body["sessions"]
    assert (session["notes"], session["medication_taken_at"]) == (None, None)
    (checkin,) = body["checkins"]
    assert (checkin["anxiety"], checkin["sleep_hours"], checkin["note"]) == (None, None, None)

    assert differences(body, bundle) == {"unmapped": [], "wrong": []}
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"MedicationAdministration", "Encounter", "DocumentReference"}.isdisjoint(kinds)


def test_every_resource_of_the_bundle_validates_as_its_r4b_model(
    client: FlaskClient, world: Any, rich: Record
) -> None:
    _, bundle = both(client, world.patient)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.get_resource_type() == resource["resourceType"]
    Bundle.model_validate(bundle)


def test_medication_taken_is_an_administration_with_no_dose_anywhere(
    client: FlaskClient, world: Any, rich: Record
) -> None:
    body, bundle = both(client, world.patient)
    (given,) = Fhir(bundle).every("MedicationAdministration", lambda r: True)
    assert same(given["effectiveDateTime"], rich.completed["medication_taken_at"])
    assert given["status"] == "completed"
    assert "dosage" not in given

    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for value in node.values() for k in keys(value)}
        if isinstance(node, list):
            return {k for item in node for k in keys(item)}
        return set()

    assert not {key for key in keys(bundle) if "dos" in key.lower()}
    assert body["sessions"][0]["medication_taken_at"] is not None


def test_someone_with_no_entry_is_named_by_their_user_id_alone(
    client: FlaskClient, world: Any, rich: Record
) -> None:
    """The admin who cancelled a session is not a practitioner of the record: the bundle gives
    their id, as the JSON export does, and nothing else about them."""
    _, bundle = both(client, world.patient)
    moves = Fhir(bundle).every(
        "Provenance", lambda r: r["target"][0]["reference"].endswith(rich.cancelled["id"])
    )
    (cancel,) = moves
    assert cancel["agent"][0]["who"] == {
        "identifier": {"system": "urn:telehealth:user", "value": world.admin.id}
    }
    text = str(bundle)
    assert world.admin.user.email not in text
    assert world.admin.user.name not in text


def test_a_json_field_without_a_mapping_is_named() -> None:
    body = {
        "sessions": [{"id": "s1", "dose_mg": 50}],
        "checkins": [{"id": "c1", "scores": {"PHQ-9": {"total": 3, "item_10": 1}}}],
    }
    bundle = {"resourceType": "Bundle", "entry": []}

    found = differences(body, bundle)

    assert found["unmapped"] == ["checkins[].scores{}.item_10", "sessions[].dose_mg"]


def test_the_walk_names_each_fact_with_the_items_it_belongs_to() -> None:
    body = {
        "sessions": [
            {"id": "s1", "transitions": [{"to_status": "a"}, {"to_status": "b"}]},
        ],
        "checkins": [{"scores": {"GAD-7": {"total": 4}}}],
    }
    walked = list(leaves(body))

    assert [(p, v) for p, v, _ in walked] == [
        ("sessions[].id", "s1"),
        ("sessions[].transitions[].to_status", "a"),
        ("sessions[].transitions[].to_status", "b"),
        ("checkins[].scores{}.total", 4),
    ]
    assert walked[2][2]["transition#"] == 1
    assert walked[2][2]["session"]["id"] == "s1"
    assert walked[3][2]["instrument"] == "GAD-7"


def test_the_documentation_lists_every_mapped_field() -> None:
    text = DOCS.read_text()
    assert [pattern for pattern in MAPPING if f"`{pattern}`" not in text] == []
