"""The export's bodies in JSON Schema, for the OpenAPI document: the record is streamed as it
is written, so no marshmallow schema dumps it."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
SCHEMAS = "#/components/schemas/"

EXPORT_JSON: Json = {
    "type": "object",
    "description": "The whole record, one JSON document written as it streams.",
    "required": ["format", "version", "exported_at", "patient", "sessions", "checkins", "alerts"],
    "properties": {
        "format": {"type": "string", "enum": ["telehealth-record"]},
        "version": {"type": "integer"},
        "exported_at": {"type": "string", "format": "date-time"},
        "patient": {"$ref": SCHEMAS + "PatientOut"},
        "sessions": {
            "type": "array",
            "description": "Each session as `SessionOut`, with its `monitoring_notes`.",
            "items": {"type": "object", "required": ["id", "status", "scheduled_start"]},
        },
        "checkins": {"type": "array", "items": {"$ref": SCHEMAS + "CheckInOut"}},
        "alerts": {"type": "array", "items": {"$ref": SCHEMAS + "AlertOut"}},
    },
}
EXPORT_FHIR: Json = {
    "type": "object",
    "description": "A FHIR R4 (R4B) Bundle of type collection; entries refer to each other "
    "by `urn:uuid:` full URLs.",
    "required": ["resourceType", "id", "type", "timestamp", "entry"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "id": {"type": "string"},
        "type": {"type": "string", "enum": ["collection"]},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["fullUrl", "resource"],
                "properties": {
                    "fullUrl": {"type": "string", "pattern": "^urn:uuid:"},
                    "resource": {"type": "object", "required": ["resourceType"]},
                },
            },
        },
    },
}
