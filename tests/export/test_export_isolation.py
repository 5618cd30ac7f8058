"""An export holds one patient's record and nothing of anyone else's: with a comparable record
built for a second patient (another clinician, another care team), not one of the second
patient's identifiers, contact details or free texts appears in the first patient's export, in
either format, and the other way round. The same identifiers of the exported patient do appear,
so the search would find a leak if there were one."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from telehealth.export.fhir_format.codes import derived_id
from tests.export.export_helpers import (
    Record,
    build_record,
    care_team,
    exported_ok,
    identifiers,
    user_identifiers,
)

FORMATS = ["json", "fhir"]


@pytest.fixture
def records(client: FlaskClient, world: Any) -> tuple[Record, Record]:
    mine = build_record(client, world.clinician, world.patient, "marker-of-pat-able")
    theirs = build_record(
        client, world.other_clinician, world.other_patient, "marker-of-olive-other", days_ahead=9
    )
    return mine, theirs


def searchable(text: str, fmt: str) -> str:
    """The export as text, with FHIR attachments (notes, base64-encoded) decoded and added."""
    if fmt != "fhir":
        return text
    decoded = [
        base64.b64decode(content["attachment"]["data"]).decode()
        for entry in json.loads(text)["entry"]
        for content in entry["resource"].get("content", [])
    ]
    assert decoded, "the bundle carries note documents"
    return "\n".join([text, *decoded])


def foreign(app: Flask, record: Record, exported: Record) -> set[str]:
    """What `record` leaves behind that must not show in `exported`'s export: its ids (and the
    FHIR ids derived from them), free texts and marker, the patient's contact details, and
    those of clinicians who are not on the exported patient's care team."""
    values = identifiers(app, record.patient.id) | user_identifiers(record.patient)
    values.add(record.marker)
    if record.clinician.id not in care_team(app, exported.patient.id):
        values |= user_identifiers(record.clinician)
    return values


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("direction", ["first", "second"])
def test_no_identifier_of_another_patient_appears_in_an_export(
    app: Flask,
    client: FlaskClient,
    world: Any,
    records: tuple[Record, Record],
    fmt: str,
    direction: str,
) -> None:
    exported, other = records if direction == "first" else records[::-1]
    text = searchable(
        exported_ok(client, exported.patient, exported.patient.id, format=fmt).text, fmt
    )

    forbidden = foreign(app, other, exported)
    assert len(forbidden) > 40
    leaked = sorted(value for value in forbidden if value in text)
    assert leaked == []

    # The control: the exported patient's own record is there, found the same way.
    own = {exported.patient.id, exported.patient.user.email, exported.patient.user.name}
    own |= {exported.clinician.id, exported.clinician.user.email, exported.clinician.user.name}
    own |= exported.session_ids | exported.note_ids | exported.amendment_ids
    own |= {exported.acknowledged_alert_id, exported.marker}
    if fmt == "json":
        own |= exported.checkin_ids
    else:
        # Every id and derived FHIR id of the record is an entry (check-ins, their
        # questionnaires and every total among them), but for the encounter of the session
        # that never started.
        never_started = uuid.UUID(exported.cancelled["id"])
        left_out = {str(derived_id(never_started, "encounter"))}
        assert exported.checkin_ids <= identifiers(app, exported.patient.id)
        own |= identifiers(app, exported.patient.id) - left_out
    missing = sorted(value for value in own if value not in text)
    assert missing == []
