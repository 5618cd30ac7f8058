"""Security headers on every answer: nothing is cached, sniffed, framed or sent as a referrer.

A health record must never sit in a browser's or a proxy's cache, so every answer is
`Cache-Control: no-store` except Swagger UI's own static files (which hold no data and keep the
caching they were served with). Every other answer carries a Content-Security-Policy that allows
nothing at all (JSON, a calendar, a script file: never a page); the docs page gets one that
allows only this server plus its own inline start-up script, by hash, so it still works with no
internet. HSTS is sent only when `HSTS_MAX_AGE` is set (production, behind TLS). `Retry-After`
is kept only on the answers that ask a client to wait.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, current_app, request

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(page: str) -> str:
    """The docs page's policy: this server only, inline styles (Swagger UI sets them from
    script), SVG icons as data: URLs, and exactly the inline scripts this page holds."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def _is_docs_page() -> bool:
    docs = "/" + str(current_app.config.get("OPENAPI_SWAGGER_UI_PATH", "docs")).strip("/")
    return request.path.rstrip("/") == docs


def _is_docs_asset() -> bool:
    assets = str(current_app.config.get("OPENAPI_SWAGGER_UI_URL") or "/docs/assets/")
    return request.path.startswith(assets)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    if not (_is_docs_asset() and "Cache-Control" in headers):
        headers["Cache-Control"] = "no-store"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    if _is_docs_page() and response.mimetype == "text/html":
        headers["Content-Security-Policy"] = docs_csp(response.get_data(as_text=True))
    else:
        headers["Content-Security-Policy"] = API_CSP
    # The rate limiter adds Retry-After to every limited route's answer; it means "wait" and
    # belongs only on an answer that asks the client to (429, 503).
    if response.status_code not in (429, 503):
        headers.pop("Retry-After", None)
    max_age = current_app.config.get("HSTS_MAX_AGE")
    if max_age:
        headers["Strict-Transport-Security"] = f"max-age={int(max_age)}; includeSubDomains"
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
