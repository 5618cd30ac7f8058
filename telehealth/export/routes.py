"""A patient's whole record, for the patient, their care team and admins."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from flask import Response, stream_with_context
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from telehealth.audit.context import audited
from telehealth.auth.roles import authenticated, me
from telehealth.db import utcnow
from telehealth.export import fhir_format, json_format
from telehealth.export.schemas import EXPORT_FHIR, EXPORT_JSON
from telehealth.extensions import db
from telehealth.openapi.marks import FILE_NAME
from telehealth.patients.models import Patient
from telehealth.patients.service import require_visible_patient
from telehealth.schemas import StrictSchema

blp = Blueprint("export", __name__, url_prefix="/api/v1", description="Record export")

Writer = Callable[[Session, Patient, datetime], Iterator[str]]
FORMATS: dict[str, tuple[Writer, str, str]] = {
    "json": (json_format.stream, "application/json", "json"),
    "fhir": (fhir_format.stream, "application/fhir+json", "fhir.json"),
}


STREAMED = "The whole record, streamed: JSON by default, a FHIR Bundle with `?format=fhir`."


class ExportQuery(StrictSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(list(FORMATS)))


def _stream(write: Writer, patient_id: uuid.UUID) -> Iterator[str]:
    """The body, read in a session of its own: the request's session is committed and closed
    before a streamed body is written, and this one must be closed when the stream ends."""
    session = db.open_session()
    try:
        yield from write(session, session.get_one(Patient, patient_id), utcnow())
    finally:
        session.close()


@blp.get("/patients/<uuid:patient_id>/export")
@audited("patient.export", "patient")
@authenticated()
@blp.arguments(ExportQuery(), location="query")
@blp.response(
    200, EXPORT_JSON, content_type="application/json", description=STREAMED, headers=FILE_NAME
)
@blp.alt_response(
    200,
    schema=EXPORT_FHIR,
    content_type="application/fhir+json",
    description=STREAMED,
    headers=FILE_NAME,
)
@blp.doc(operationId="exportPatientRecord")
def export_record(query: dict[str, Any], patient_id: uuid.UUID) -> Response:
    """The patient's whole record (profile, care team, sessions with notes and amendments,
    check-ins with scores, alerts) as JSON, or with `?format=fhir` as a FHIR Bundle of type
    collection. Streamed, so a long history does not have to fit in memory."""
    require_visible_patient(db.session, me(), patient_id)
    write, mimetype, extension = FORMATS[query["format"]]
    return Response(
        stream_with_context(_stream(write, patient_id)),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="record.{extension}"'},
    )
