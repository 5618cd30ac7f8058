"""The webhook routes: admins register, list and delete endpoints, read each one's deliveries
log and send a delivery again; nobody else may, and the secret is shown once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook

from telehealth.audit.models import AuditEvent
from telehealth.extensions import db
from telehealth.outbound.models import PUBLIC_EVENTS, Delivery, DeliveryStatus
from telehealth.worker import tasks
from tests.problems import assert_problem, assert_utc, parse
from tests.record_rights.rights_helpers import follow
from tests.webhooks.helpers import WEBHOOKS, make_delivery, make_webhook, register

HOOK = "http://127.0.0.1:9/hook"
CREATED_KEYS = {"id", "url", "events", "description", "secret", "created_at"}
DELIVERY_KEYS = {
    "id",
    "event_id",
    "event_type",
    "status",
    "attempts",
    "last_status_code",
    "last_error",
    "next_attempt_at",
    "delivered_at",
    "created_at",
}


def test_an_admin_registers_a_webhook_and_gets_its_secret_once(client, world):
    response = register(
        client, world.admin, url=HOOK, events=["alert.raised"], description=" Pager "
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == CREATED_KEYS
    assert body["url"] == HOOK
    assert body["events"] == ["alert.raised"]
    assert body["description"] == "Pager"
    assert_utc(body["created_at"])
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"])  # a secret the Standard Webhooks library takes
    listed = client.get(WEBHOOKS, headers=world.admin.headers)
    assert body["secret"] not in listed.get_data(as_text=True)
    [item] = [item for item in listed.get_json()["items"] if item["id"] == body["id"]]
    assert set(item) == CREATED_KEYS - {"secret"}


def test_each_webhook_gets_its_own_long_random_secret(client, world):
    secrets = {register(client, world.admin, url=HOOK).get_json()["secret"] for _ in range(3)}

    assert len(secrets) == 3
    assert all(len(secret.removeprefix("whsec_")) >= 32 for secret in secrets)  # 24+ bytes


def test_star_subscribes_to_every_event_and_types_are_kept_once(client, world):
    everything = register(client, world.admin, url=HOOK, events=["alert.raised", "*"])
    twice = register(client, world.admin, url=HOOK, events=["checkin.due", "alert.raised"] * 2)

    assert everything.get_json()["events"] == ["*"]
    assert twice.get_json()["events"] == ["alert.raised", "checkin.due"]


def test_the_list_is_newest_first_and_pages_with_a_cursor(client, world):
    made = [register(client, world.admin, url=f"{HOOK}/{n}").get_json()["id"] for n in range(5)]

    items = follow(client, WEBHOOKS, world.admin.headers, limit=2)

    ids = [item["id"] for item in items]
    assert ids == list(reversed(made))
    keys = [(parse(item["created_at"]), uuid.UUID(item["id"])) for item in items]
    assert keys == sorted(keys, reverse=True)


def test_deleting_a_webhook_keeps_it_from_every_route(client, world, app):
    webhook_id = register(client, world.admin, url=HOOK).get_json()["id"]
    delivery_id = make_delivery(app, uuid.UUID(webhook_id))
    admin = world.admin.headers

    assert client.delete(f"{WEBHOOKS}/{webhook_id}", headers=admin).status_code == 204

    listed = client.get(WEBHOOKS, headers=admin).get_json()["items"]
    assert webhook_id not in [item["id"] for item in listed]
    assert_problem(client.delete(f"{WEBHOOKS}/{webhook_id}", headers=admin), 404)
    assert_problem(client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", headers=admin), 404)
    retry = f"{WEBHOOKS}/{webhook_id}/deliveries/{delivery_id}/retry"
    assert_problem(client.post(retry, headers=admin), 404)
    # The row and its log are kept.
    with app.app_context():
        assert db.session.get(Delivery, uuid.UUID(delivery_id)) is not None


def every_route(webhook_id: str, delivery_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("POST", WEBHOOKS, {"url": HOOK, "events": ["*"]}),
        ("GET", WEBHOOKS, None),
        ("DELETE", f"{WEBHOOKS}/{webhook_id}", None),
        ("GET", f"{WEBHOOKS}/{webhook_id}/deliveries", None),
        ("POST", f"{WEBHOOKS}/{webhook_id}/deliveries/{delivery_id}/retry", None),
    ]


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_clinicians_and_patients_may_use_no_webhook_route(client, world, app, who):
    webhook_id, _ = make_webhook(app, HOOK)
    delivery_id = make_delivery(app, webhook_id)

    for method, url, body in every_route(str(webhook_id), delivery_id):
        response = client.open(url, method=method, json=body, headers=getattr(world, who).headers)
        assert_problem(response, 403)
    assert client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", headers=world.admin.headers).json


def test_without_a_token_every_webhook_route_is_401(client, app):
    webhook_id, _ = make_webhook(app, HOOK)

    for method, url, body in every_route(str(webhook_id), str(uuid.uuid4())):
        assert_problem(client.open(url, method=method, json=body), 401)


def test_unknown_webhooks_and_deliveries_are_not_found(client, world, app):
    webhook_id, _ = make_webhook(app, HOOK)
    other_id, _ = make_webhook(app, HOOK)
    others_delivery = make_delivery(app, other_id)
    admin = world.admin.headers
    unknown = uuid.uuid4()

    assert_problem(client.delete(f"{WEBHOOKS}/{unknown}", headers=admin), 404)
    assert_problem(client.get(f"{WEBHOOKS}/{unknown}/deliveries", headers=admin), 404)
    assert_problem(
        client.post(f"{WEBHOOKS}/{unknown}/deliveries/{others_delivery}/retry", headers=admin), 404
    )
    assert_problem(
        client.post(f"{WEBHOOKS}/{webhook_id}/deliveries/{uuid.uuid4()}/retry", headers=admin),
        404,
    )
    # Another webhook's delivery is not this one's.
    assert_problem(
        client.post(f"{WEBHOOKS}/{webhook_id}/deliveries/{others_delivery}/retry", headers=admin),
        404,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["*"]}, "url"),
        ({"url": HOOK}, "events"),
        ({"url": HOOK, "events": []}, "events"),
        ({"url": HOOK, "events": ["alert.exploded"]}, "events"),
        # Internal events (an invitation, with its token) are never a webhook's.
        ({"url": HOOK, "events": ["account.invited"]}, "events"),
        ({"url": HOOK, "events": "alert.raised"}, "events"),
        ({"url": HOOK, "events": ["*"], "secret": "whsec_mine"}, "secret"),
        ({"url": HOOK, "events": ["*"], "dose_mg": 50}, "dose_mg"),
        ({"url": "not a url", "events": ["*"]}, "url"),
        ({"url": "ftp://127.0.0.1/hook", "events": ["*"]}, "url"),
        ({"url": "http://user:pw@127.0.0.1/hook", "events": ["*"]}, "url"),
        ({"url": "http://10.0.0.5/hook", "events": ["*"]}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data", "events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:99999/hook", "events": ["*"]}, "url"),
        ({"url": "http://nowhere.invalid/hook", "events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1/" + "a" * 2000, "events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1/\x00", "events": ["*"]}, "url"),
        ({"url": HOOK, "events": ["*"], "description": "x" * 501}, "description"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_field(client, world, body, field):
    assert_problem(client.post(WEBHOOKS, json=body, headers=world.admin.headers), 422, field)


def test_unknown_query_parameters_are_refused(client, world, app):
    webhook_id, _ = make_webhook(app, HOOK)
    admin = world.admin.headers

    assert_problem(client.get(f"{WEBHOOKS}?secret=1", headers=admin), 422, "secret")
    assert_problem(
        client.get(f"{WEBHOOKS}/{webhook_id}/deliveries?status=failed", headers=admin),
        422,
        "status",
    )


def test_production_settings_refuse_plain_http_and_loopback(client, world, monkeypatch, app):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)

    for url in (HOOK, "https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/"):
        response = register(client, world.admin, url=url)
        assert_problem(response, 422, "url")
    assert register(client, world.admin, url="https://93.184.216.34/hook").status_code == 201


# --- the deliveries log ---------------------------------------------------------------------------


def set_delivery(app, delivery_id: str, **values) -> None:
    with app.app_context(), db.begin() as session:
        session.execute(
            update(Delivery).where(Delivery.id == uuid.UUID(delivery_id)).values(**values)
        )


def test_the_deliveries_log_is_newest_first_with_each_attempt_s_outcome(client, world, app):
    webhook_id, secret = make_webhook(app, HOOK)
    first = make_delivery(app, webhook_id)
    second = make_delivery(app, webhook_id)
    set_delivery(
        app,
        first,
        status=DeliveryStatus.FAILED,
        attempts=8,
        last_status_code=500,
        last_error="answered 500",
        created_at=datetime.now(UTC) - timedelta(hours=30),
    )
    make_delivery(app, make_webhook(app, HOOK)[0])  # another webhook's

    response = client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", headers=world.admin.headers)

    assert response.status_code == 200
    page = response.get_json()
    assert secret not in response.get_data(as_text=True)
    assert [item["id"] for item in page["items"]] == [second, first]
    newest, oldest = page["items"]
    assert set(newest) == DELIVERY_KEYS
    assert newest["status"] == "pending"
    assert newest["event_type"] == "alert.raised"
    assert newest["attempts"] == 0
    assert newest["next_attempt_at"] is not None
    assert oldest["status"] == "failed"
    assert (oldest["attempts"], oldest["last_status_code"]) == (8, 500)
    assert oldest["last_error"] == "answered 500"
    assert oldest["next_attempt_at"] is None  # none is coming
    paged = follow(client, f"{WEBHOOKS}/{webhook_id}/deliveries", world.admin.headers, limit=1)
    assert [item["id"] for item in paged] == [second, first]


@pytest.mark.parametrize("status", [DeliveryStatus.FAILED, DeliveryStatus.DELIVERED])
def test_a_retry_makes_the_delivery_due_now_and_hands_it_to_the_queue_after_commit(
    client, world, app, monkeypatch, status
):
    handed: list[tuple[object, tuple]] = []
    monkeypatch.setattr(
        "telehealth.worker.tasks.enqueue", lambda task, *ids: handed.append((task, ids))
    )
    webhook_id, _ = make_webhook(app, HOOK)
    delivery_id = make_delivery(app, webhook_id)
    later = datetime.now(UTC) + timedelta(hours=5)
    set_delivery(
        app,
        delivery_id,
        status=status,
        attempts=8,
        last_status_code=200,
        next_attempt_at=later,
        delivered_at=datetime.now(UTC) if status is DeliveryStatus.DELIVERED else None,
    )
    before = datetime.now(UTC)

    response = client.post(
        f"{WEBHOOKS}/{webhook_id}/deliveries/{delivery_id}/retry", headers=world.admin.headers
    )

    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert set(body) == DELIVERY_KEYS
    assert body["id"] == delivery_id
    assert body["status"] == "pending"
    assert body["attempts"] == 8  # the log keeps counting
    assert body["delivered_at"] is None
    assert before <= parse(body["next_attempt_at"]) <= datetime.now(UTC)
    assert handed == [(tasks.deliver, (uuid.UUID(delivery_id),))]


def test_a_refused_retry_hands_nothing_to_the_queue(client, world, app, monkeypatch):
    handed: list[object] = []
    monkeypatch.setattr("telehealth.worker.tasks.enqueue", lambda *args: handed.append(args))
    webhook_id, _ = make_webhook(app, HOOK)
    delivery_id = make_delivery(app, webhook_id)
    url = f"{WEBHOOKS}/{webhook_id}/deliveries/{delivery_id}/retry"

    assert client.post(url, headers=world.clinician.headers).status_code == 403
    assert (
        client.post(
            f"{WEBHOOKS}/{webhook_id}/deliveries/{uuid.uuid4()}/retry", headers=world.admin.headers
        ).status_code
        == 404
    )
    assert handed == []


def test_the_routes_are_audited_with_the_webhook(client, world, app):
    created = register(client, world.admin, url=HOOK).get_json()
    client.delete(f"{WEBHOOKS}/{created['id']}", headers=world.admin.headers)

    with app.app_context():
        events = db.session.query(AuditEvent).filter(AuditEvent.resource_type == "webhook").all()
    assert {(event.action, event.resource_id, event.status_code) for event in events} >= {
        ("webhook.create", created["id"], 201),
        ("webhook.delete", created["id"], 204),
    }


def test_every_public_event_type_may_be_subscribed(client, world):
    response = register(client, world.admin, url=HOOK, events=sorted(PUBLIC_EVENTS))

    assert response.status_code == 201
    assert response.get_json()["events"] == sorted(PUBLIC_EVENTS)
