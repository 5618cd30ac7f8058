"""Where a newcomer starts: `GET /` and `GET /api/v1` point to the docs page and the OpenAPI
document, whose description says what the service is for and how to use it."""
