"""One problem handler answers every HTTP error: flask-smorest registers its own when the API is
bound, and the factory registers ours after it, so ours is the one that stays."""

from __future__ import annotations

from werkzeug.exceptions import HTTPException

from telehealth.errors import handle_http_exception
from tests.problems import assert_problem


def test_the_app_answers_http_errors_with_the_problem_handler(app):
    assert app.error_handler_spec[None][None][HTTPException] is handle_http_exception


def test_an_unknown_route_and_a_wrong_method_are_problems_in_our_words(client):
    missing = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert missing["detail"] == "Not found."
    wrong = assert_problem(client.delete("/api/v1/me"), 405)
    assert wrong["detail"] == "This method is not allowed on this resource."
