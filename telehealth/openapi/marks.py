"""What a route declares about itself that flask-smorest has no argument for, as OpenAPI
extensions for `@blp.doc(...)`. The plugin reads each mark and takes it out of the document.

    @blp.doc(operationId="signIn", **RATE_LIMITED)
"""

from __future__ import annotations

from typing import Any

RATE_LIMITED_KEY = "x-rate-limited"
NO_DATABASE_KEY = "x-no-database"

#: A route under `@limiter.limit`: its answers carry flask-limiter's headers, and it may be 429.
RATE_LIMITED: dict[str, Any] = {RATE_LIMITED_KEY: True}
#: A route that answers without the database, so never 503.
NO_DATABASE: dict[str, Any] = {NO_DATABASE_KEY: True}
#: The header of a body to save as a file, for `@blp.response(..., headers=FILE_NAME)`.
FILE_NAME: dict[str, Any] = {"Content-Disposition": "Content-Disposition"}
