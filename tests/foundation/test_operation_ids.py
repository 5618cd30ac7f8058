"""Every operation of the OpenAPI document has a unique, stable operationId, a verb and a noun
in camelCase (`submitCheckin`, `listPatientCheckins`), so that clients generated from the
document get readable method names. It is the view function's name: renaming a view renames
the client's method, which this list makes a deliberate act."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from telehealth.openapi import operation_id

VERBS = {
    "acknowledge", "activate", "add", "amend", "cancel", "change", "check", "complete", "confirm",
    "create", "deactivate", "delete", "export", "get", "list", "mark", "read", "record",
    "refresh", "remove", "replace", "request", "reset", "retry", "revoke", "rotate", "schedule",
    "sign", "start", "submit", "update",
}  # fmt: skip
CAMEL = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]+)+$")


def operations(client: FlaskClient) -> list[tuple[str, str, dict]]:
    paths = client.get("/openapi.json").get_json()["paths"]
    return [
        (method.upper(), path, operation)
        for path, item in paths.items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def test_a_view_name_becomes_camel_case():
    assert operation_id("list_patient_checkins") == "listPatientCheckins"
    assert operation_id("submit_checkin") == "submitCheckin"


def test_every_operation_has_a_unique_verb_noun_operation_id(client: FlaskClient):
    found = operations(client)
    ids = [operation.get("operationId") for _method, _path, operation in found]

    assert len(found) > 50
    missing = [
        f"{method} {path}" for method, path, operation in found if not operation.get("operationId")
    ]
    assert missing == []
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    badly_named = [
        i for i in ids if not CAMEL.match(i) or re.match(r"[a-z]+", i).group() not in VERBS
    ]
    assert badly_named == []
