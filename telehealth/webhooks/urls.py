"""Where a webhook may point (server-side request forgery).

A webhook makes the service send requests to an address an admin typed in, from inside the
clinic's network. Production sends only https, and only to public addresses: never to
loopback, link-local (cloud metadata at 169.254.169.254), private, shared (carrier-grade
NAT), reserved, multicast or unspecified ones, however the name resolves. Development and
test add exactly two things, plain http and loopback, so a receiver on the same machine works;
private and link-local addresses stay refused there too.

The check runs when a webhook is created, again before every send (a name may resolve
elsewhere by then), and once more on the connection itself: the address the socket is
connected to is checked before a byte of the request is written, so a name that resolves to
a public address for the check and to a private one for the connection (DNS rebinding) is
caught too.
"""

from __future__ import annotations

import ipaddress
from socket import AF_UNSPEC, SOCK_STREAM, gaierror, getaddrinfo
from typing import Any
from urllib.parse import SplitResult, urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: The longest webhook URL accepted (browsers and proxies commonly stop near 2,000).
MAX_URL_LENGTH = 2000

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(Exception):
    """A URL the service will not send to; the message says why, for the admin."""


def check_url(url: str, *, allow_loopback: bool) -> None:
    """Raise `UrlRefused` unless `url` may be sent to under this policy (resolving its host)."""
    parts = parse_url(url, allow_loopback=allow_loopback)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in resolve(host, port):
        check_address(address, allow_loopback=allow_loopback)


def parse_url(url: str, *, allow_loopback: bool) -> SplitResult:
    """The URL's parts, when its form is acceptable (nothing resolved yet)."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"Must be at most {MAX_URL_LENGTH} characters.")
    if not url.isprintable() or any(character.isspace() for character in url):
        raise UrlRefused("Must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise UrlRefused("Not a URL.") from None
    schemes = ("https", "http") if allow_loopback else ("https",)
    if parts.scheme.lower() not in schemes:
        raise UrlRefused("Must be an https URL." if not allow_loopback else "Must be http(s).")
    if not parts.hostname:
        raise UrlRefused("Must name a host.")
    if parts.username is not None or parts.password is not None:
        # The signature authenticates the sender; credentials in a URL are shown in every list.
        raise UrlRefused("Must not contain a user name or password.")
    return parts


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (an IP literal: itself, without asking DNS)."""
    try:
        found = getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM)
    except (gaierror, UnicodeError, ValueError, OSError):
        raise UrlRefused("The host name does not resolve.") from None
    addresses = []
    for *_, sockaddr in found:
        try:
            # An IPv6 address may carry a zone ("fe80::1%eth0"): a link-local one anyway.
            addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        except ValueError:
            raise UrlRefused("The host name does not resolve to an IP address.") from None
    if not addresses:
        raise UrlRefused("The host name does not resolve.")
    return addresses


def address_allowed(address: Address, *, allow_loopback: bool) -> bool:
    """Whether the service may connect to `address`: a public one, or loopback where allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address.is_loopback:
        return allow_loopback
    refused = (
        address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        # Shared (100.64.0.0/10), documentation, 6to4 relays and the rest of what IANA lists
        # as not globally reachable.
        or not address.is_global
    )
    return not refused


def check_address(address: Address, *, allow_loopback: bool) -> None:
    if not address_allowed(address, allow_loopback=allow_loopback):
        raise UrlRefused("The host resolves to an address webhooks may not reach.")


# --- the connection itself --------------------------------------------------------------------


class AddressNotAllowed(Exception):
    """The socket connected to an address the policy refuses; nothing was sent.

    Not an OSError on purpose: urllib3 and requests retry or wrap those, and this one must
    reach the caller as it is."""


class _CheckedHTTPConnection(HTTPConnection):
    allow_loopback = False

    def connect(self) -> None:
        super().connect()
        _check_peer(self, self.allow_loopback)


class _CheckedHTTPSConnection(HTTPSConnection):
    allow_loopback = False

    def connect(self) -> None:
        super().connect()
        _check_peer(self, self.allow_loopback)


def _check_peer(connection: HTTPConnection, allow_loopback: bool) -> None:
    peer = connection.sock.getpeername()[0] if connection.sock is not None else ""
    try:
        allowed = address_allowed(
            ipaddress.ip_address(str(peer).split("%", 1)[0]), allow_loopback=allow_loopback
        )
    except ValueError:
        allowed = False
    if not allowed:
        connection.close()
        raise AddressNotAllowed


def _pools(allow_loopback: bool) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pools whose connections check the address they reach."""
    http = type(
        "CheckedHTTPConnection", (_CheckedHTTPConnection,), {"allow_loopback": allow_loopback}
    )
    https = type(
        "CheckedHTTPSConnection", (_CheckedHTTPSConnection,), {"allow_loopback": allow_loopback}
    )
    return {
        "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


POOLS = {allow: _pools(allow) for allow in (False, True)}


class CheckedAdapter(HTTPAdapter):
    """A requests transport that connects only to addresses the policy allows."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOLS[self.allow_loopback]
