"""One read model for a session (`SessionView`): a single session built from the ORM object and
a page built from rows of columns are the same values, and the model carries every field the
answers write, so none can go missing from one path only."""

from __future__ import annotations

import uuid
from dataclasses import fields

import pytest

from telehealth.extensions import db
from telehealth.sessions import service
from telehealth.sessions.models import SHOWN_COLUMNS, SessionView, TransitionView
from telehealth.sessions.schemas import ListedSessionOut, SessionOut, TransitionOut
from tests.sessions.helpers import act, bring_to, scheduled


def attributes(cls: type) -> set[str]:
    """A class's fields and properties: what an output schema can read from it."""
    properties = {name for name, value in vars(cls).items() if isinstance(value, property)}
    return {field.name for field in fields(cls)} | properties


@pytest.mark.parametrize("schema", [SessionOut, ListedSessionOut])
def test_the_read_model_has_every_field_a_session_answer_writes(schema):
    assert set(schema().dump_fields) <= attributes(SessionView)


def test_the_read_model_has_every_field_a_transition_answer_writes():
    assert set(TransitionOut().dump_fields) <= attributes(TransitionView)


def test_a_list_reads_only_the_stored_columns_the_model_shows():
    shown = {field.name for field in fields(SessionView)}

    assert set(SHOWN_COLUMNS) == shown - {"timezone", "transitions"}


def test_a_page_and_the_single_read_build_equal_models(app, client, world):
    started = scheduled(client, world.clinician, world.patient.id)["id"]
    bring_to(client, world.clinician, started, "in_progress")
    cancelled = scheduled(client, world.clinician, world.patient.id, "2026-12-02T13:00:00Z")
    assert act(client, world.clinician, cancelled["id"], "cancel").status_code == 200
    scheduled(client, world.clinician, world.patient.id, "2026-12-03T13:00:00Z")
    actor = world.clinician.user

    with app.app_context():
        page = service.list_sessions(db.session, actor, limit=10, with_transitions=True)
        lean = service.list_sessions(db.session, actor, limit=10)
        single = [
            SessionView.of(service.get_session(db.session, actor, listed.id))
            for listed in page.items
        ]

    assert len(page.items) == 3
    assert page.items == single
    assert [len(view.transitions or []) for view in page.items] == [1, 1, 0]
    assert all(view.transitions is None for view in lean.items)
    assert [view.id for view in lean.items] == [view.id for view in page.items]


def test_the_derived_values_come_from_the_stored_ones(app, client, world):
    created = scheduled(client, world.clinician, world.patient.id)  # 13:00 UTC, New York

    with app.app_context():
        view = SessionView.of(
            service.get_session(db.session, world.clinician.user, uuid.UUID(created["id"]))
        )

    assert view.timezone == "America/New_York"
    assert view.scheduled_start_local.isoformat() == "2026-12-01T08:00:00-05:00"
    assert view.treatment_monitor == {
        "name": view.treatment_monitor_name,
        "phone": view.treatment_monitor_phone,
    }
