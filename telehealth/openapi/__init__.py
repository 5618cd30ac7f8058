"""The OpenAPI document describes every answer the service gives, not only the happy path.

Each route declares what it answers (`@blp.response`, `@blp.alt_response` for the errors only
its service knows, `@blp.doc` with the marks of `marks`); the apispec plugin of `plugin`,
handed to `api.init_app` by `create_app`, completes each operation from that: errors as
problems (`problems`), headers, and JSON Schema for rules checked in code (`fields`).
"""

from __future__ import annotations

from telehealth.openapi.marks import FILE_NAME, NO_DATABASE, RATE_LIMITED
from telehealth.openapi.plugin import OperationDocs, operation_id

__all__ = ["FILE_NAME", "NO_DATABASE", "RATE_LIMITED", "OperationDocs", "operation_id"]
