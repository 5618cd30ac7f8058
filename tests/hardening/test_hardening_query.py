"""Issue 18, finding 8: unknown query parameters are 422 naming them on every API route, like
unknown body fields, instead of being ignored (a misspelt filter would answer as if unfiltered)."""

from __future__ import annotations

import re
import uuid

from flask import Flask
from flask.testing import FlaskClient

from tests.hardening.hardening_helpers import API, Scene
from tests.problems import assert_problem

SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def _url(rule: str, scene: Scene) -> str:
    """The rule with its ids filled: the scene's where it has one, else an unknown id."""
    known = {
        "patient_id": scene.patient.id,
        "session_id": scene.session_id,
        "alert_id": scene.alert_id,
        "note_id": scene.note_id,
    }
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: known.get(m.group(1), str(uuid.uuid4())), rule)


def test_an_unknown_query_parameter_is_422_on_every_api_route(
    app: Flask, client: FlaskClient, scene: Scene
) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(f"{API}/"):
            continue
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            for actor in (scene.clinician, scene.admin):
                response = client.open(
                    _url(rule.rule, scene),
                    method=method,
                    headers=actor.headers,
                    query_string={"pateint_id": scene.patient.id},
                    json={},
                )
                if response.status_code in (401, 403):
                    continue  # the role may not use the route: refused before its arguments
                assert_problem(response, 422, "pateint_id")
                checked += 1
    assert checked > 40


def test_a_misspelt_filter_no_longer_lists_everything(client: FlaskClient, scene: Scene) -> None:
    for path in ("/sessions", "/alerts", "/patients", "/me/notifications"):
        response = client.get(
            f"{API}{path}", headers=scene.clinician.headers, query_string={"limt": "1"}
        )

        assert_problem(response, 422, "limt")


def test_known_parameters_still_answer(client: FlaskClient, scene: Scene) -> None:
    response = client.get(
        f"{API}/sessions",
        headers=scene.clinician.headers,
        query_string={"patient_id": scene.patient.id, "limit": 1},
    )

    assert response.status_code == 200, response.get_json()


def test_flask_smorest_still_records_where_a_view_reads_its_arguments(app) -> None:
    """The tripwire of the one private attribute the query guard reads (`_apidoc`)."""
    from telehealth.guards import declares_query_parameters

    views = app.view_functions
    assert declares_query_parameters(views["sessions.list_sessions"])
    assert declares_query_parameters(views["alerts.list_alerts"])
    assert not declares_query_parameters(views["sessions.get_session"])
    assert not declares_query_parameters(views["inbox.read_notification"])
