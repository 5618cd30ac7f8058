"""POST and DELETE /api/v1/calendar/subscription, and the secret feed URL they hand out: calendar
apps (Google Calendar, Outlook, Apple Calendar) fetch it without a header. Rotating or revoking
the URL, deactivating the clinician and ending all their sign-ins make it answer 404; the feed
shows only what is still to happen, and cancelled sessions as cancelled."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from telehealth.auth.models import TokenFamily
from telehealth.auth.tokens import revoke_all_for_user
from telehealth.calendar.models import CalendarSubscription
from telehealth.extensions import db
from tests.calendar.helpers import (
    FEEDS,
    SUBSCRIPTION,
    assert_gone,
    feed_events,
    fetch,
    secret_of,
    subscribe,
    uid,
)
from tests.conftest import SUITE_NOW
from tests.factories import PASSWORD, make_user
from tests.problems import assert_problem
from tests.sessions.helpers import API, act, bring_to, frozen_at, scheduled

SOON = "2026-12-01T13:00:00Z"  # half an hour after the suite's clock starts
TOMORROW = "2026-12-02T13:00:00Z"


def subscriptions(app):
    with app.app_context():
        return list(db.session.scalars(select(CalendarSubscription)))


# --- subscribing ------------------------------------------------------------------------------


def test_a_clinician_subscribes_and_a_calendar_app_reads_the_feed_without_a_header(
    app, client, world
):
    booked = scheduled(client, world.clinician, world.patient.id, TOMORROW)

    url = subscribe(client, world.clinician)
    response = fetch(client, url)
    events = feed_events(client, url)

    assert url.startswith(f"{app.config['PUBLIC_URL']}{FEEDS}")
    assert response.headers["Cache-Control"] == "no-store"
    assert list(events) == [uid(booked)]
    event = events[uid(booked)]
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]).endswith(" P.A.")
    assert "Pat Able" not in response.get_data(as_text=True)


def test_only_a_hash_of_the_secret_is_stored(app, client, world):
    secret = secret_of(subscribe(client, world.clinician))

    [row] = subscriptions(app)

    assert len(secret) >= 43
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(vars(row))


def test_subscribing_again_rotates_the_url_and_the_old_one_answers_404(app, client, world):
    booked = scheduled(client, world.clinician, world.patient.id, TOMORROW)
    old = subscribe(client, world.clinician)

    new = subscribe(client, world.clinician)

    assert new != old
    assert_gone(client, old)
    assert list(feed_events(client, new)) == [uid(booked)]
    assert len(subscriptions(app)) == 1


def test_deleting_the_subscription_makes_the_url_answer_404(client, world):
    url = subscribe(client, world.clinician)
    assert feed_events(client, url) == {}

    response = client.delete(SUBSCRIPTION, headers=world.clinician.headers)

    assert response.status_code == 204
    assert_gone(client, url)
    # Deleting again changes nothing.
    assert client.delete(SUBSCRIPTION, headers=world.clinician.headers).status_code == 204


def test_each_clinician_has_their_own_url(client, world):
    mine = subscribe(client, world.clinician)
    theirs = subscribe(client, world.other_clinician)

    client.delete(SUBSCRIPTION, headers=world.other_clinician.headers)

    assert feed_events(client, mine) == {}
    assert_gone(client, theirs)


@pytest.mark.parametrize("who", ["patient", "admin"])
@pytest.mark.parametrize("method", ["post", "delete"])
def test_patients_and_admins_may_not_subscribe(client, world, who, method):
    response = getattr(client, method)(SUBSCRIPTION, headers=getattr(world, who).headers)

    assert_problem(response, 403)


@pytest.mark.parametrize("method", ["post", "delete"])
def test_subscribing_needs_a_token(client, method):
    assert_problem(getattr(client, method)(SUBSCRIPTION), 401)


def test_a_body_with_fields_is_422(app, client, world):
    response = client.post(
        SUBSCRIPTION, json={"url": "https://evil.test"}, headers=world.clinician.headers
    )

    assert_problem(response, 422, "url")
    assert subscriptions(app) == []


@pytest.mark.parametrize("method", ["post", "delete"])
def test_a_query_parameter_is_422(client, world, method):
    response = getattr(client, method)(
        f"{SUBSCRIPTION}?scope=everyone", headers=world.clinician.headers
    )

    assert_problem(response, 422)


# --- what opens the feed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    ["x" * 43, "", "a", "..", "%00", "x" * 2000, "%F0%9F%93%85", "%ED%A0%80"],
)
def test_an_unknown_secret_is_404(client, world, secret):
    subscribe(client, world.clinician)

    response = client.get(f"{FEEDS}{secret}.ics")

    assert_problem(response, 404)


def test_a_secret_of_a_revoked_url_is_the_same_404_as_an_unknown_one(client, world):
    url = subscribe(client, world.clinician)
    client.delete(SUBSCRIPTION, headers=world.clinician.headers)

    assert_gone(client, url)


def test_the_feed_answers_get_only(client, world):
    url = subscribe(client, world.clinician)

    response = client.post(urlsplit(url).path)

    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_deactivating_the_clinician_ends_their_feed(client, world):
    url = subscribe(client, world.lone_clinician)
    assert feed_events(client, url) == {}

    response = client.post(
        f"{API}/users/{world.lone_clinician.id}/deactivate", headers=world.admin.headers
    )

    assert response.status_code == 200, response.get_json()
    assert_gone(client, url)


def test_an_inactive_clinician_s_feed_is_404_even_if_the_row_is_left(app, client, world):
    url = subscribe(client, world.lone_clinician)
    with app.app_context(), db.begin() as session:
        session.merge(world.lone_clinician.user).is_active = False

    assert_gone(client, url)


@pytest.mark.parametrize("keep_own_sign_in", [False, True])
def test_ending_every_sign_in_ends_the_feed(app, client, world, keep_own_sign_in):
    # What signing out everywhere (and a password change, which keeps the caller's own sign-in)
    # runs: whoever signed in elsewhere may have subscribed.
    url = subscribe(client, world.clinician)
    with app.app_context(), db.begin() as session:
        keep = None
        if keep_own_sign_in:
            keep = session.scalars(
                select(TokenFamily.id).where(TokenFamily.user_id == world.clinician.user.id)
            ).first()
        revoke_all_for_user(session, world.clinician.user.id, reason="logout", keep=keep)

    assert_gone(client, url)
    assert subscriptions(app) == []


def test_signing_out_of_one_sign_in_keeps_the_feed(client, world):
    url = subscribe(client, world.clinician)

    assert client.post(f"{API}/auth/logout", headers=world.clinician.headers).status_code == 204

    assert feed_events(client, url) == {}


def test_the_feed_is_rate_limited_per_address(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "CALENDAR_FEED_RATE_LIMIT_PER_ADDRESS", "3/minute")
    url = subscribe(client, world.clinician)
    here = {"REMOTE_ADDR": "203.0.113.41"}
    for _ in range(3):
        assert fetch(client, url, environ_base=here).status_code == 200

    limited = fetch(client, url, environ_base=here)

    assert_problem(limited, 429)
    assert limited.headers["Retry-After"].isdigit()
    # Guessing from one address is slowed the same way.
    assert_problem(client.get(f"{FEEDS}{'y' * 43}.ics", environ_base=here), 429)
    assert fetch(client, url, environ_base={"REMOTE_ADDR": "203.0.113.42"}).status_code == 200


# --- what the feed shows ----------------------------------------------------------------------


def test_a_cancelled_session_comes_back_cancelled_with_the_same_uid_and_a_higher_sequence(
    app, client, world
):
    kept = scheduled(client, world.clinician, world.patient.id, SOON)
    dropped = scheduled(client, world.clinician, world.patient.id, TOMORROW)
    url = subscribe(client, world.clinician)
    before = feed_events(client, url)
    assert {str(event["STATUS"]) for event in before.values()} == {"CONFIRMED"}

    with frozen_at(app, SUITE_NOW + timedelta(minutes=10), world.clinician) as (clinician,):
        assert act(client, clinician, dropped["id"], "cancel").status_code == 200
        after = feed_events(client, url)

    assert set(after) == set(before) == {uid(kept), uid(dropped)}
    cancelled = after[uid(dropped)]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["TRANSP"]) == "TRANSPARENT"
    assert int(cancelled["SEQUENCE"]) > int(before[uid(dropped)]["SEQUENCE"])
    assert cancelled.decoded("DTSTAMP") > before[uid(dropped)].decoded("DTSTAMP")
    assert cancelled.decoded("LAST-MODIFIED") == cancelled.decoded("DTSTAMP")
    assert str(after[uid(kept)]["STATUS"]) == "CONFIRMED"
    assert after[uid(kept)].decoded("DTSTAMP") == before[uid(kept)].decoded("DTSTAMP")


@pytest.mark.parametrize("status", ["completed", "no_show"])
def test_a_session_that_is_over_is_no_longer_upcoming(client, world, status):
    # Half an hour before its start: it may be started (and completed) already, or marked a
    # no-show, long before its scheduled end.
    over = scheduled(client, world.clinician, world.patient.id, SOON)
    later = scheduled(client, world.clinician, world.patient.id, TOMORROW)
    url = subscribe(client, world.clinician)
    assert uid(over) in feed_events(client, url)

    bring_to(client, world.clinician, over["id"], status)
    events = feed_events(client, url)

    assert list(events) == [uid(later)]


def test_a_session_in_progress_is_still_in_the_feed(client, world):
    running = scheduled(client, world.clinician, world.patient.id, SOON)
    url = subscribe(client, world.clinician)

    bring_to(client, world.clinician, running["id"], "in_progress")

    assert str(feed_events(client, url)[uid(running)]["STATUS"]) == "CONFIRMED"


def test_another_clinician_s_patients_are_not_in_the_feed(client, world):
    mine = scheduled(client, world.clinician, world.patient.id, TOMORROW)
    scheduled(client, world.other_clinician, world.other_patient.id, TOMORROW)

    assert list(feed_events(client, subscribe(client, world.clinician))) == [uid(mine)]
    assert feed_events(client, subscribe(client, world.lone_clinician)) == {}


def test_a_former_care_team_member_s_feed_drops_the_patient_s_session(app, client, world):
    booked = scheduled(client, world.clinician, world.patient.id, TOMORROW)
    url = subscribe(client, world.clinician)
    assert uid(booked) in feed_events(client, url)
    team = f"{API}/patients/{world.patient.id}/care-team"
    replacement = make_user(app, world.clinician.user.role, name="Dr. Next")
    assert client.put(f"{team}/{replacement.id}", headers=world.admin.headers).status_code == 200
    removed = client.delete(f"{team}/{world.clinician.id}", headers=world.admin.headers)

    assert removed.status_code == 204

    assert uid(booked) not in feed_events(client, url)


def test_the_feed_names_patients_by_initials_only(client, world):
    scheduled(
        client,
        world.clinician,
        world.patient.id,
        TOMORROW,
        notes="Discussed PHQ-9 of 18 and suicidal thoughts.",
    )

    text = fetch(client, subscribe(client, world.clinician)).get_data(as_text=True)
    unfolded = text.replace("\r\n ", "").lower()

    for secret in ("Pat Able", "Able", world.patient.user.email, world.patient.id, "PHQ-9",
                   "suicidal", "Sam Sitter"):  # fmt: skip
        assert secret.lower() not in unfolded, secret


def test_a_session_booked_far_ahead_is_left_out(client, world):
    # The same three-month horizon as the Bearer feed.
    far = scheduled(client, world.clinician, world.patient.id, "2027-03-15T13:00:00Z")
    near = scheduled(client, world.clinician, world.patient.id, TOMORROW)

    events = feed_events(client, subscribe(client, world.clinician))

    assert set(events) == {uid(near)}
    assert uid(far) not in events


def test_the_feed_asks_calendar_apps_to_fetch_it_again_every_hour(client, world):
    response = fetch(client, subscribe(client, world.clinician))

    text = response.get_data(as_text=True)

    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "X-PUBLISHED-TTL:PT1H\r\n" in text


def test_changing_the_password_ends_the_feed_with_the_other_sign_ins(client, world):
    url = subscribe(client, world.clinician)

    response = client.post(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=world.clinician.headers,
    )

    assert response.status_code == 204, response.get_data(as_text=True)
    assert_gone(client, url)
    # The caller's own sign-in stays, and may subscribe again.
    assert feed_events(client, subscribe(client, world.clinician)) == {}
