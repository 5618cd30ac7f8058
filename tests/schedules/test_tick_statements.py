"""One scheduler pass sends the same statements whatever the number of patients: one read of
every plan item (with each patient's zone and when each item was last sent), one claim of the
reminders, one insert of the alerts, one read of their care teams, and the events. No query
per patient. (Each INSERT is split by the driver into pages of 1,000 rows, so the counts
below stay under that; bench/schedule_tick.py times 10,000 patients.)"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from bench.schedule_tick import seed
from telehealth.alerts.models import AlertKind, SafetyAlert
from telehealth.extensions import db
from telehealth.schedules.models import CheckinReminder
from telehealth.schedules.tick import run_schedules
from tests.factories import frozen
from tests.perf.test_statement_counts import Statements, counting
from tests.record_rights.test_phi_routes_audited import rolled_back
from tests.schedules.schedule_helpers import utc

#: Monday 7 December 2026, 15:00 UTC: a first or a second reminder is due for every undone item
#: in each of the seeded zones, and half the patients have been silent for ten days.
MOMENT = utc(2026, 12, 7, 15, 0)
#: Plan items read 1 + reminders claimed (INSERT ... ON CONFLICT DO NOTHING RETURNING) 1 +
#: their `checkin.due` events (flushed before the next statement) 1 + missed-check-in alerts
#: (INSERT ... ON CONFLICT DO NOTHING RETURNING) 1 + their care teams 1 + the `alert.raised`
#: and `checkin.missed` events 1.
BUDGET = 6


def one_pass(app: Flask, patients: int) -> tuple[Statements, int, int, int]:
    """Seed `patients` (bulk), run one pass, and roll it all back; what the pass sent, the
    reminders and alerts it made, and the plan items it read."""
    with rolled_back(app), frozen(app, MOMENT):
        with app.app_context(), db.begin() as session:
            seed(session, patients, now=MOMENT, tag=f"n{patients}")
        with app.app_context(), db.begin() as session, counting(app) as statements:
            sent, raised = run_schedules(session, app.config)
            session.flush()  # the outbox rows, else written at the commit
        with app.app_context():
            claimed = db.session.scalar(select(func.count()).select_from(CheckinReminder))
            alerts = db.session.scalar(
                select(func.count())
                .select_from(SafetyAlert)
                .where(SafetyAlert.kind == AlertKind.MISSED_CHECKINS)
            )
        assert (claimed, alerts) == (sent, raised)
    return statements, sent, raised, patients * 4


def test_a_pass_costs_the_same_statements_for_20_and_200_patients(app):
    small, sent_small, raised_small, _ = one_pass(app, 20)
    large, sent_large, raised_large, _ = one_pass(app, 200)

    # The world of the pass did scale: reminders for each undone item, an alert per silence.
    assert (sent_small, raised_small) == (50, 10)
    assert (sent_large, raised_large) == (500, 100)
    assert len(small.queries) == len(large.queries), f"20: {small}\n200: {large}"
    assert len(large.queries) <= BUDGET, str(large)
    assert len(large.touching("checkin_plan_items")) == 1, large


def test_a_pass_with_nothing_new_claims_nothing(app):
    """Every reminder claimed and every alert raised already: the pass makes nothing new."""
    with rolled_back(app), frozen(app, MOMENT):
        with app.app_context(), db.begin() as session:
            seed(session, 40, now=MOMENT, tag="again")
        with app.app_context(), db.begin() as session:
            first = run_schedules(session, app.config)
        with app.app_context(), db.begin() as session:
            second = run_schedules(session, app.config)

    assert first == (100, 20)
    assert second == (0, 0)
