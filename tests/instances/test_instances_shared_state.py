"""Two gunicorn instances of the app behind one PostgreSQL database and one Redis share what
must be shared: a logout on one refuses the token on the other at once, and the per-account
login limit counts attempts on both.

Real processes, so it needs PostgreSQL (TEST_DATABASE_URL) and Redis on 127.0.0.1:6379; it uses
Redis database 13 of its own, emptied before and after.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.instances.live_server import (
    ADMIN_PASSWORD,
    CLINICIAN_PASSWORD,
    SKIP_REASON,
    Instance,
    api_call,
    create_clinician,
    login,
    on_postgresql,
    postgres_lock,
    provisioned_database,
    redis_database,
    running_instances,
    service_env,
)

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not on_postgresql(), reason=SKIP_REASON)]

REDIS_DB = 13
ACCOUNT_LIMIT = 3


@dataclass
class Cluster:
    """Instances A and B and two clinician accounts (CLINICIAN_PASSWORD): one for the logout
    test, one for the login-limit test, so their sign-ins never count against each other."""

    a: Instance
    b: Instance
    signs_out: str
    gets_limited: str

    def report(self) -> str:
        return "\n".join(f"--- {i.name} log:\n{i.log_tail()}" for i in (self.a, self.b))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two gunicorn instances (one worker each) of one database and one Redis; the processes
    are stopped and the database dropped afterwards, whatever happened."""
    log_dir = tmp_path_factory.mktemp("instances")
    with (
        postgres_lock(exclusive=False),
        redis_database(REDIS_DB) as redis_url,
        provisioned_database("telehealth_instances") as (database_url, admin),
    ):
        env = service_env(
            database_url,
            redis_url,
            GUNICORN_WORKERS="1",
            LOGIN_RATE_LIMIT_PER_ACCOUNT=f"{ACCOUNT_LIMIT}/minute",
            LOG_LEVEL="WARNING",
        )
        with running_instances(env, ("a", "b"), log_dir) as (a, b), requests.Session() as http:
            admin_token = login(http, a.url, admin, ADMIN_PASSWORD)["access_token"]
            yield Cluster(
                a,
                b,
                signs_out=create_clinician(http, a.url, admin_token, database_url),
                gets_limited=create_clinician(http, b.url, admin_token, database_url),
            )


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_instances_logout_on_a_refuses_the_token_on_b(
    cluster: Cluster, http: requests.Session
) -> None:
    a, b = cluster.a, cluster.b
    pair = login(http, a.url, cluster.signs_out, CLINICIAN_PASSWORD)
    token = pair["access_token"]
    # The token works on both instances before the logout ...
    for instance in (a, b):
        api_call(http, "GET", f"{instance.url}/api/v1/me", token=token, expect=200)

    api_call(http, "POST", f"{a.url}/api/v1/auth/logout", token=token, expect=204)

    # ... and on neither right after it: B checks the token family in the shared database,
    # not in anything A could have cached in its own memory.
    refused = api_call(http, "GET", f"{b.url}/api/v1/me", token=token)
    assert refused.status_code == 401, cluster.report()
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    api_call(http, "GET", f"{a.url}/api/v1/me", token=token, expect=401)
    # The refresh family went with it, on the other instance too.
    api_call(http, "POST", f"{b.url}/api/v1/auth/refresh", token=pair["refresh_token"], expect=401)
    # A new sign-in on B still works: only that sign-in was ended.
    fresh = login(http, b.url, cluster.signs_out, CLINICIAN_PASSWORD)
    api_call(http, "GET", f"{a.url}/api/v1/me", token=fresh["access_token"], expect=200)


def test_instances_login_limit_counts_attempts_on_both(
    cluster: Cluster, http: requests.Session
) -> None:
    a, b, account = cluster.a, cluster.b, cluster.gets_limited
    wrong = {"email": account, "password": "not the password " + secrets.token_hex(4)}

    def attempt(instance: Instance) -> requests.Response:
        return api_call(http, "POST", f"{instance.url}/api/v1/auth/login", json=wrong)

    # 3/minute per account: two failures on A and one on B use the allowance up ...
    statuses = [attempt(a).status_code, attempt(a).status_code, attempt(b).status_code]
    assert statuses == [401, 401, 401], cluster.report()
    # ... so the fourth is refused wherever it lands, with a Retry-After.
    for instance in (a, b):
        limited = attempt(instance)
        assert limited.status_code == 429, (instance.name, limited.text, cluster.report())
        assert limited.headers["Content-Type"] == "application/problem+json"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["status"] == 429
    # The limit is per account: the right password of that account is refused too (that is
    # the point), while another account on the same address is not affected.
    blocked = api_call(
        http,
        "POST",
        f"{b.url}/api/v1/auth/login",
        json={"email": account, "password": CLINICIAN_PASSWORD},
    )
    assert blocked.status_code == 429
    other = api_call(
        http,
        "POST",
        f"{a.url}/api/v1/auth/login",
        json={"email": "nobody@example.test", "password": "wrong password"},
    )
    assert other.status_code == 401


def test_instances_are_two_processes(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    assert a.port != b.port
    assert a.alive() and b.alive()
    assert a.process is not None and b.process is not None
    assert a.process.pid != b.process.pid
    assert a.worker_pids() and b.worker_pids()
    assert not a.worker_pids() & b.worker_pids()
