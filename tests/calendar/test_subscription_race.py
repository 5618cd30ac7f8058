"""A clinician's calendar app and their browser ask for a feed URL at the same moment: each
request gets a URL, the clinician still has one subscription, and exactly one of the URLs
opens the feed. Real concurrent transactions, so on a database of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from telehealth.accounts.models import Role
from telehealth.calendar.models import CalendarSubscription
from telehealth.extensions import db
from tests.calendar.helpers import SUBSCRIPTION, fetch
from tests.databases import app_on_own_database
from tests.factories import make_user, sign_in
from tests.threads import all_at_once

CALLS = 4


@pytest.fixture(scope="module")
def race_app() -> Iterator[Flask]:
    with app_on_own_database("telehealth_calendar_race") as app:
        yield app


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_subscribes_leave_one_subscription_and_one_working_url(race_app, round_):
    app = race_app
    clinician = sign_in(app, make_user(app, Role.CLINICIAN, name=f"Dr. Race {round_}"))

    def ask() -> TestResponse:
        return app.test_client().post(SUBSCRIPTION, headers=clinician.headers)

    responses = all_at_once([ask for _ in range(CALLS)])

    assert [response.status_code for response in responses] == [201] * CALLS
    urls = {response.get_json()["url"] for response in responses}
    assert len(urls) == CALLS
    with app.app_context():
        rows = db.session.scalar(
            select(func.count())
            .select_from(CalendarSubscription)
            .where(CalendarSubscription.user_id == clinician.user.id)
        )
    assert rows == 1
    client = app.test_client()
    assert sorted(fetch(client, url).status_code for url in urls) == [200] + [404] * (CALLS - 1)
