"""Abusive bodies on every JSON write route: oversized, deeply nested, huge, undecodable, of the
wrong media type. Each is refused with a problem (never a 500), promptly, and writes nothing."""

from __future__ import annotations

import io
import json

import pytest

from tests.hardening.hardening_helpers import (
    KIB,
    ROUTE_NAMES,
    WRITE_ROUTES,
    get_at,
    refused,
    replaced,
    send,
    string_leaves,
)
from tests.problems import names_field

DEPTH = 10_000

# --- size -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_body_over_64_kib_is_413(app, client, scene, name):
    body = WRITE_ROUTES[name].body(scene)
    first_text = next(string_leaves(body))
    oversized = replaced(body, first_text, "x" * (65 * KIB))

    refused(app, lambda: send(client, scene, name, body=oversized), 413)


def _chunked(client, scene, name, raw):
    """The route called with `raw` sent chunked, as a proxy may forward it: no Content-Length,
    the server (gunicorn) marks the input as terminated instead."""
    route = WRITE_ROUTES[name]
    return client.open(
        route.path(scene),
        method=route.method,
        input_stream=io.BytesIO(raw),
        content_type="application/json",
        headers={**route.request_headers(scene), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_an_oversized_chunked_body_is_413_not_truncated(app, client, scene, name):
    """Werkzeug stops reading a chunked body at the cap without an error: a valid body padded
    with whitespace past 64 KiB was cut at the cap and accepted."""
    valid = json.dumps(WRITE_ROUTES[name].body(scene)).encode()
    padded = valid + b" " * (65 * KIB)

    refused(app, lambda: _chunked(client, scene, name, padded), 413)


def test_a_chunked_body_under_the_cap_is_read_whole(client, scene):
    valid = json.dumps(WRITE_ROUTES["POST /clinicians"].body(scene)).encode()

    response = _chunked(client, scene, "POST /clinicians", valid + b" " * (60 * KIB))

    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_body_of_many_thousand_keys_is_refused(app, client, scene, name):
    body = WRITE_ROUTES[name].body(scene)
    body.update({f"k{i:05}": 0 for i in range(5000)})
    assert len(json.dumps(body, separators=(",", ":"))) < 64 * KIB

    problem, _ = refused(app, lambda: send(client, scene, name, body=body), 422)
    assert names_field(problem["errors"], "k00000")


@pytest.mark.parametrize("name", ["POST /checkins", "POST /sessions/{id}/notes"])
def test_a_list_of_tens_of_thousands_of_items_is_refused(app, client, scene, name):
    body = WRITE_ROUTES[name].body(scene)
    if name == "POST /checkins":
        body["instruments"] = {"PHQ-9": [0] * 25_000}
        field = "instruments"
    else:
        body["side_effects"] = ["x"] * 12_000
        field = "side_effects"

    problem, _ = refused(app, lambda: send(client, scene, name, body=body), 422)
    assert names_field(problem["errors"], field)


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_bare_array_of_tens_of_thousands_of_items_is_422(app, client, scene, name):
    refused(app, lambda: send(client, scene, name, body=[0] * 25_000), 422)


# --- nesting ----------------------------------------------------------------------------------

NESTED = {
    "arrays": "[" * DEPTH + "]" * DEPTH,
    "objects": '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "mixed": '{"a":[' * (DEPTH // 2) + "1" + "]}" * (DEPTH // 2),
}


@pytest.mark.parametrize("shape", list(NESTED))
@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_body_nested_ten_thousand_levels_deep_is_400(app, client, scene, name, shape):
    problem, _ = refused(app, lambda: send(client, scene, name, raw=NESTED[shape]), 400)
    assert "nest" in problem["detail"]


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_deep_nesting_inside_a_real_field_is_400(app, client, scene, name):
    body = WRITE_ROUTES[name].body(scene)
    path = next(string_leaves(body))
    marker = "__deep__"
    raw = json.dumps(replaced(body, path, marker)).replace(
        json.dumps(marker), "[" * DEPTH + "]" * DEPTH
    )

    refused(app, lambda: send(client, scene, name, raw=raw), 400)


@pytest.mark.parametrize("depth", [33, 500, 990, 1500])
def test_nesting_past_the_limit_is_400_whatever_the_recursion_limit(app, client, scene, depth):
    """Just past the limit, and around Python's recursion limit (where json may or may not
    raise): the answer is the same 400, not a parse that fails further down."""
    raw = '{"note": ' + "[" * depth + "]" * depth + "}"

    refused(app, lambda: send(client, scene, "POST /alerts/{id}/acknowledge", raw=raw), 400)


def test_nesting_within_the_limit_goes_on_to_validation(app, client, scene):
    raw = '{"note": ' + "[" * 31 + "]" * 31 + "}"

    problem, _ = refused(
        app, lambda: send(client, scene, "POST /alerts/{id}/acknowledge", raw=raw), 422
    )
    assert names_field(problem["errors"], "note")


def test_deep_nesting_is_refused_before_the_idempotency_key_is_claimed(app, client, scene):
    """The key's hash reads the body too: it must not be what crashes."""
    refused(
        app,
        lambda: send(
            client,
            scene,
            "POST /checkins",
            raw=NESTED["arrays"],
            headers={"Idempotency-Key": "deep-1"},
        ),
        400,
    )


def test_deep_nesting_on_login_is_refused_before_the_rate_limit_key(app, client, scene):
    """Login's per-account rate limit reads the email from the body before validation."""
    raw = '{"email": ' + "[" * DEPTH + "]" * DEPTH + "}"

    refused(app, lambda: send(client, scene, "POST /auth/login", raw=raw), 400)


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_an_integer_of_five_thousand_digits_is_400(app, client, scene, name):
    """Python refuses to convert integer literals over 4300 digits (ValueError, not a
    JSONDecodeError): the service must not pass that on as a 500."""
    raw = '{"mood": 1' + "0" * 5000 + "}"

    refused(app, lambda: send(client, scene, name, raw=raw), 400)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_422(app, client, scene, literal):
    body = WRITE_ROUTES["POST /checkins"].body(scene)
    raw = json.dumps({**body, "sleep_hours": "__n__"}).replace('"__n__"', literal)

    problem, _ = refused(app, lambda: send(client, scene, "POST /checkins", raw=raw), 422)
    assert names_field(problem["errors"], "sleep_hours")


# --- encoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_non_utf8_bytes_in_the_body_are_400(app, client, scene, name):
    for raw in (
        b'{"mood": "\xff"}',
        b"\xff\xfe\x00\x00",
        json.dumps(WRITE_ROUTES[name].body(scene)).encode().replace(b'"', b'"\xc3\x28', 1),
    ):
        refused(app, lambda raw=raw: send(client, scene, name, raw=raw), 400)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1"])
def test_json_in_another_encoding_is_400(app, client, scene, encoding):
    body = WRITE_ROUTES["POST /patients"].body(scene)
    body["name"] = "Zoë Ångström"
    raw = json.dumps(body, ensure_ascii=False).encode(encoding)

    refused(app, lambda: send(client, scene, "POST /patients", raw=raw), 400)


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_lone_surrogate_escape_in_any_string_is_400(app, client, scene, name):
    """`"\\ud800"` is valid JSON but not Unicode: no database driver can encode it."""
    body = WRITE_ROUTES[name].body(scene)
    for path in string_leaves(body):
        raw = json.dumps(replaced(body, path, get_at(body, path) + "\ud800"))
        problem, _ = refused(app, lambda raw=raw: send(client, scene, name, raw=raw), 400)
        assert "Unicode" in problem["detail"], path


def test_a_lone_surrogate_in_a_key_is_400(app, client, scene):
    raw = json.dumps({"\udfff": 1})

    refused(app, lambda: send(client, scene, "POST /patients", raw=raw), 400)


def test_malformed_json_is_still_400(app, client, scene):
    for raw in ('{"name": ', "{'name': 'single quotes'}", '{"a": 1,}', "\ufeff{}"):
        problem, _ = refused(
            app, lambda raw=raw: send(client, scene, "POST /patients", raw=raw), 400
        )
        # Issue 18: not Werkzeug's "The browser (or proxy) sent a request that ...".
        assert problem["detail"] == "The body is not valid JSON.", raw


# --- media types ------------------------------------------------------------------------------

WRONG_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=hardening",
    "application/xml",
    None,
]


@pytest.mark.parametrize("content_type", WRONG_TYPES, ids=lambda t: t or "none")
@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_valid_body_of_the_wrong_media_type_is_415(app, client, scene, name, content_type):
    """Before: the argument parser ignored such a body and loaded the request as if it had no
    fields. Routes with no required field then succeeded and wrote: a text/plain body
    acknowledged the alert, and PATCHed the patient and the session (a new version)."""
    problem, _ = refused(app, lambda: send(client, scene, name, content_type=content_type), 415)
    assert "application/json" in problem["detail"]


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_real_form_post_is_415(app, client, scene, name):
    route = WRITE_ROUTES[name]
    form = {key: value for key, value in route.body(scene).items() if isinstance(value, str)}

    for extra in ({}, {"upload": (io.BytesIO(b"file"), "f.txt")}):
        refused(
            app,
            lambda extra=extra: client.open(
                route.path(scene),
                method=route.method,
                data={**form, **extra},
                headers=route.request_headers(scene),
            ),
            415,
        )


def test_an_oversized_body_of_the_wrong_media_type_is_refused(app, client, scene):
    refused(
        app,
        lambda: send(
            client, scene, "POST /patients", raw="x" * (65 * KIB), content_type="text/plain"
        ),
        413,
        415,
    )


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/problem+json"]
)
def test_json_media_types_with_parameters_or_suffixes_are_read(client, scene, content_type):
    response = send(client, scene, "POST /clinicians", content_type=content_type)

    assert response.status_code == 201, response.get_json()


def test_a_write_without_a_body_still_works(client, scene):
    """The guard only looks at bodies: a body-less POST with no Content-Type is fine."""
    note_id = scene.note_id
    response = client.post(f"/api/v1/notes/{note_id}/sign", headers=scene.clinician.headers)

    assert response.status_code == 200, response.get_json()
