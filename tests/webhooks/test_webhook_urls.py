"""Where webhooks may point (SSRF): production sends https to public addresses only;
development and test add plain http and loopback, and nothing else. No test here asks DNS:
names are IP literals, `localhost`, or mapped by a stand-in resolver."""

from __future__ import annotations

import pytest
import requests

from config import load_config
from telehealth.webhooks.urls import (
    MAX_URL_LENGTH,
    AddressNotAllowed,
    CheckedAdapter,
    UrlRefused,
    check_url,
)
from tests.webhooks.helpers import resolver
from tests.webhooks.receiver import Receiver

PUBLIC = "93.184.216.34"

# Refused everywhere: private, link-local (cloud metadata), shared, reserved, multicast,
# unspecified, IPv4 written as IPv6, unique-local and link-local IPv6.
NEVER = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "240.0.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[fc00::1]",
    "[fe80::1]",
    "[ff02::1]",
    "[::]",
]
LOOPBACK = ["127.0.0.1", "127.1.2.3", "[::1]", "[::ffff:127.0.0.1]", "localhost"]


@pytest.mark.parametrize("host", NEVER + LOOPBACK)
def test_production_refuses_every_address_that_is_not_public(host):
    with pytest.raises(UrlRefused):
        check_url(f"https://{host}/hook", allow_loopback=False)


@pytest.mark.parametrize("host", NEVER)
def test_development_and_test_still_refuse_private_and_link_local_addresses(host):
    with pytest.raises(UrlRefused):
        check_url(f"http://{host}/hook", allow_loopback=True)


@pytest.mark.parametrize("host", LOOPBACK)
def test_development_and_test_allow_loopback_over_http(host):
    check_url(f"http://{host}:8080/hook", allow_loopback=True)
    check_url(f"https://{host}/hook", allow_loopback=True)


def test_production_allows_https_to_a_public_address():
    check_url(f"https://{PUBLIC}/hook?x=1", allow_loopback=False)
    check_url(f"https://{PUBLIC}:8443/hook", allow_loopback=False)


def test_production_refuses_plain_http_even_to_a_public_address():
    with pytest.raises(UrlRefused, match="https"):
        check_url(f"http://{PUBLIC}/hook", allow_loopback=False)


def test_a_name_is_judged_by_every_address_it_resolves_to(monkeypatch):
    monkeypatch.setattr(
        "telehealth.webhooks.urls.getaddrinfo",
        resolver(
            {
                "hooks.example.org": [PUBLIC],
                "sneaky.example.org": [PUBLIC, "10.1.2.3"],
                "metadata.example.org": ["169.254.169.254"],
                "v6.example.org": ["2606:4700::1111"],
                "mapped.example.org": ["::ffff:127.0.0.1"],
            }
        ),
    )

    check_url("https://hooks.example.org/hook", allow_loopback=False)
    check_url("https://v6.example.org/hook", allow_loopback=False)
    for name in ("sneaky", "metadata", "mapped"):
        with pytest.raises(UrlRefused):
            check_url(f"https://{name}.example.org/hook", allow_loopback=False)


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(UrlRefused, match="resolve"):
        check_url("https://nowhere.example.org/hook", allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "hooks",
        "ftp://127.0.0.1/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/",
        "https:///no-host",
        "https://user:secret@127.0.0.1/hook",
        "https://127.0.0.1:0x50/hook",
        "https://127.0.0.1:65536/hook",
        "https://[::1/hook",
        "https://127.0.0.1/ hook",
        "https://127.0.0.1/\nhook",
        "https://127.0.0.1/" + "a" * MAX_URL_LENGTH,
    ],
)
def test_what_is_not_an_http_url_is_refused_under_any_settings(url):
    with pytest.raises(UrlRefused):
        check_url(url, allow_loopback=True)


def test_the_connection_itself_refuses_an_address_the_check_would_refuse():
    """DNS rebinding: whatever a name resolved to for the check, the address the socket
    reaches is checked before the request is written."""
    with Receiver() as receiver, requests.Session() as http:
        http.trust_env = False
        http.mount("http://", CheckedAdapter(allow_loopback=False))
        with pytest.raises(AddressNotAllowed):
            http.post(receiver.url, data=b"{}", timeout=5)
        http.mount("http://", CheckedAdapter(allow_loopback=True))
        assert http.post(receiver.url, data=b"{}", timeout=5).status_code == 200

        assert len(receiver.requests) == 1


# --- the settings -----------------------------------------------------------------------------

PRODUCTION = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "AUDIT_KEY": "a" * 40,
    "DATABASE_URL": "postgresql+psycopg://db/telehealth",
    "SMTP_URL": "smtp://127.0.0.1:25",
    "MAIL_FROM": "Clinic <care@clinic.example.org>",
}


def test_only_development_and_test_allow_loopback():
    assert load_config("development").WEBHOOK_ALLOW_LOOPBACK is True
    assert load_config("test").WEBHOOK_ALLOW_LOOPBACK is True
    assert load_config("production", **PRODUCTION).WEBHOOK_ALLOW_LOOPBACK is False


@pytest.mark.parametrize(
    "overrides",
    [
        {"WEBHOOK_ALLOW_LOOPBACK": True},
        {"WEBHOOK_RETRY_DELAYS_SECONDS": [5, 60, 3600]},  # not a day of retries
        {"WEBHOOK_TIMEOUT_SECONDS": 120},  # longer than a worker's claim
    ],
)
def test_production_refuses_unsafe_webhook_settings(overrides):
    with pytest.raises(RuntimeError, match="WEBHOOK_"):
        load_config("production", **PRODUCTION, **overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"WEBHOOK_RETRY_DELAYS_SECONDS": []},
        {"WEBHOOK_RETRY_DELAYS_SECONDS": [1, -1]},
        {"WEBHOOK_RETRY_DELAYS_SECONDS": ["5"]},
        {"WEBHOOK_RETRY_DELAYS_SECONDS": {"a": 1}},
        {"WEBHOOK_TIMEOUT_SECONDS": 0},
    ],
)
def test_meaningless_webhook_settings_are_refused_everywhere(overrides):
    with pytest.raises(RuntimeError, match="WEBHOOK_"):
        load_config("test", **overrides)
