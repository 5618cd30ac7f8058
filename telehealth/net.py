"""The client's address, as trusted proxies report it (ProxyFix is set up in the factory)."""

from __future__ import annotations

from flask import request


def client_address() -> str:
    return request.remote_addr or "unknown"
