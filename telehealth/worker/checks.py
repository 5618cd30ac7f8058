"""The periodic checks a tick runs: the sweep for what the queue missed, escalation, overdue
checkpoints and session reminders. Each runs in its own transaction and claims what it acts on
with a conditional UPDATE (or a unique key), so two workers never do the same thing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from telehealth.alerts.models import AlertKind, AlertStatus, SafetyAlert
from telehealth.alerts.service import event_data
from telehealth.audit import chain
from telehealth.db import utcnow
from telehealth.extensions import db
from telehealth.outbound.events import Event, admins, care_teams, emit, emit_all
from telehealth.outbound.models import Delivery, DeliveryStatus, EventType, OutboxEvent
from telehealth.worker.queue import claim_slot

log = logging.getLogger(__name__)

#: How many rows of each kind one tick hands to the queue at most (a backlog takes more ticks).
SWEEP_BATCH = 500
#: Work the queue should already hold is left to it this long before the sweep queues it again:
#: an event after its commit, a delivery after its next attempt fell due. Shorter, and under a
#: backlog every tick would queue again what is only waiting its turn (each copy a wasted claim).
SWEEP_GRACE = timedelta(seconds=30)


def run_checks(sweep: Callable[[Session], object]) -> None:
    """Every periodic check, each in a transaction of its own, a failure logged and left to
    the next tick. `sweep` hands the work found due (`due_work`) to the queue, whose tasks
    (`telehealth.worker.tasks`) are what runs the checks."""
    from telehealth.worker.reminders import send_session_reminders

    def check_in_schedules(session: Session) -> None:
        from telehealth.schedules.tick import run_schedules

        run_schedules(session, current_app.config)

    checks: list[Callable[[Session], object]] = [
        escalate,
        raise_overdue_checkpoints,
        send_session_reminders,
        check_in_schedules,
        anchor_audit_chain,
        sweep,
    ]
    for check in checks:
        try:
            with db.begin() as session:
                check(session)
        except Exception:
            log.exception("periodic check %s failed; the next tick tries again", check.__name__)


def anchor_audit_chain(session: Session) -> None:
    """Publish the signed head of the audit chain, once per AUDIT_ANCHOR_MINUTES across every
    worker: to the log and as an `audit.anchor` event to the clinic's webhooks. Kept off the
    machine, these are the anchors that `flask audit verify --anchor` checks the database
    against (a webhook's `data` is the anchor itself)."""
    period = 60 * current_app.config["AUDIT_ANCHOR_MINUTES"]
    if not claim_slot("audit-anchor", int(utcnow().timestamp() // period)):
        return
    head = chain.anchor(session, key=chain.current_key())
    log.info("audit anchor", extra={"audit_anchor": head})
    emit(session, EventType.AUDIT_ANCHOR, head)


def due_work(session: Session) -> tuple[list, list]:  # type: ignore[type-arg]
    """Events not yet fanned out, and pending deliveries whose next attempt is due and that no
    worker holds: what the queue should have and may not."""
    now = utcnow()
    events = session.scalars(
        select(OutboxEvent.id)
        .where(OutboxEvent.fanned_out_at.is_(None), OutboxEvent.created_at <= now - SWEEP_GRACE)
        .order_by(OutboxEvent.created_at)
        .limit(SWEEP_BATCH)
    ).all()
    deliveries = session.scalars(
        select(Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now - SWEEP_GRACE,
            or_(Delivery.leased_until.is_(None), Delivery.leased_until < now),
        )
        .order_by(Delivery.next_attempt_at)
        .limit(SWEEP_BATCH)
    ).all()
    return list(events), list(deliveries)


def escalation_windows() -> dict[AlertKind, timedelta]:
    return {
        AlertKind(kind): timedelta(minutes=minutes)
        for kind, minutes in current_app.config["ALERT_ESCALATION_MINUTES"].items()
    }


def escalate(session: Session) -> list[SafetyAlert]:
    """Move each open alert left unacknowledged for its kind's window up one level: level 1
    tells every active clinician of the care team again, level 2 the clinic's admins. The
    conditional UPDATE takes each alert at one level exactly once, however many workers run."""
    now = utcnow()
    escalated: list[SafetyAlert] = []
    for kind, window in escalation_windows().items():
        for level in (1, 2):
            since = SafetyAlert.created_at if level == 1 else SafetyAlert.escalated_at
            rows = session.scalars(
                update(SafetyAlert)
                .where(
                    SafetyAlert.status == AlertStatus.OPEN,
                    SafetyAlert.kind == kind,
                    SafetyAlert.escalation_level == level - 1,
                    since <= now - window,
                )
                .values(escalation_level=level, escalated_at=now, updated_at=now)
                .returning(SafetyAlert)
            ).all()
            escalated.extend(rows)
    if not escalated:
        return []
    teams = care_teams(session, {alert.patient_id for alert in escalated})
    on_call = admins(session)
    emit_all(
        session,
        [
            Event(
                EventType.ALERT_ESCALATED,
                event_data(alert),
                teams.get(alert.patient_id, []) if alert.escalation_level == 1 else on_call,
            )
            for alert in escalated
        ],
    )
    return escalated


def raise_overdue_checkpoints(session: Session) -> None:
    """Overdue checkpoints of every patient's recent sessions, raised when they fall due."""
    from telehealth.monitoring.service import raise_overdue_checkpoint_alerts_among
    from telehealth.sessions.models import TreatmentSession

    raise_overdue_checkpoint_alerts_among(session, select(TreatmentSession))
