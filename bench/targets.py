"""What the load hits: each target's request, its wrk script and its reference endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import wrk
from bench.tokens import ReferenceTokens, ServiceTokens

SERVICE, REFERENCE = "service", "reference"
#: The reference endpoints a service endpoint is measured against.
BARE, INSERT, PAGE = "ref_bare", "ref_insert", "ref_page"


@dataclass(frozen=True)
class Target:
    name: str
    app: str
    method: str
    #: How it is shown: ids as {busy_patient}, {checkin}.
    label: str
    path: str
    script: Path
    compare_to: str | None = None
    #: A list endpoint: its p50 must stay flat from 10k to 1M rows.
    is_list: bool = False
    #: One request like the script's, sent from Python to show what an error answer says.
    probe_headers: dict[str, str] = field(default_factory=dict)
    probe_body: Callable[[], dict[str, Any]] | None = None


def _get(name: str, label: str, path: str, token: str, directory: Path, **options: Any) -> Target:
    script = wrk.write_script(directory, name, wrk.GET_SCRIPT, token=token)
    headers = {"Authorization": f"Bearer {token}"}
    return Target(name, SERVICE, "GET", label, path, script, probe_headers=headers, **options)


def checkin_body() -> dict[str, Any]:
    """The probe's copy of the script's check-in body."""
    recorded_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
    return {"recorded_at": recorded_at, "mood": 6, "instruments": {"PHQ-9": [1] * 8 + [0]}}


def service_targets(
    manifest: dict[str, Any], tokens: ServiceTokens, directory: Path
) -> list[Target]:
    busy = manifest["busy_patient_id"]
    clinician, checkins = tokens.clinician, f"/api/v1/patients/{busy}/checkins?limit=50"
    post = wrk.write_script(
        directory, "checkins_post", wrk.CHECKIN_SCRIPT, tokens=wrk.lua_strings(tokens.patients)
    )
    return [
        Target(
            "checkins_post",
            SERVICE,
            "POST",
            "/api/v1/checkins",
            "/api/v1/checkins",
            post,
            compare_to=INSERT,
            probe_headers={
                "Authorization": f"Bearer {tokens.patients[0]}",
                "Idempotency-Key": "",
            },
            probe_body=checkin_body,
        ),
        _get(
            "checkins_list",
            "/api/v1/patients/{busy_patient}/checkins?limit=50",
            checkins,
            clinician,
            directory,
            compare_to=PAGE,
            is_list=True,
        ),
        _get(
            "checkin_read",
            "/api/v1/checkins/{checkin}",
            f"/api/v1/checkins/{tokens.checkin_id}",
            clinician,
            directory,
            compare_to=PAGE,
        ),
        _get(
            "sessions_list",
            "/api/v1/sessions?limit=50",
            "/api/v1/sessions?limit=50",
            clinician,
            directory,
            compare_to=PAGE,
            is_list=True,
        ),
        _get(
            "outcomes",
            "/api/v1/patients/{busy_patient}/outcomes",
            f"/api/v1/patients/{busy}/outcomes",
            clinician,
            directory,
            compare_to=PAGE,
        ),
        _get(
            "alerts_list",
            "/api/v1/alerts?limit=50",
            "/api/v1/alerts?limit=50",
            clinician,
            directory,
            compare_to=PAGE,
            is_list=True,
        ),
        _get(
            "audit_list",
            "/api/v1/audit?limit=50 (admin)",
            "/api/v1/audit?limit=50",
            tokens.admin,
            directory,
            compare_to=PAGE,
            is_list=True,
        ),
    ]


def reference_targets(tokens: ReferenceTokens, directory: Path) -> list[Target]:
    bare = wrk.write_script(directory, BARE, wrk.NO_AUTH_SCRIPT)
    insert = wrk.write_script(
        directory, INSERT, wrk.ITEM_SCRIPT, tokens=wrk.lua_strings(tokens.owners)
    )
    page = wrk.write_script(directory, PAGE, wrk.GET_SCRIPT, token=tokens.busy_owner)
    return [
        Target(BARE, REFERENCE, "GET", "/bare", "/bare", bare),
        Target(
            INSERT,
            REFERENCE,
            "POST",
            "/items",
            "/items",
            insert,
            probe_headers={"Authorization": f"Bearer {tokens.owners[0]}"},
            probe_body=lambda: {"mood": 5, "note": "bench"},
        ),
        Target(
            PAGE,
            REFERENCE,
            "GET",
            "/items?limit=50",
            "/items?limit=50",
            page,
            probe_headers={"Authorization": f"Bearer {tokens.busy_owner}"},
        ),
    ]


def probe(base_url: str, target: Target) -> tuple[int, str]:
    """Send the target's request once: its status and the start of its body."""
    body = None if target.probe_body is None else json.dumps(target.probe_body()).encode()
    headers = dict(target.probe_headers)
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = f"bench-probe-{uuid.uuid4().hex}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(  # noqa: S310 - our own http URL
        base_url + target.path, data=body, headers=headers, method=target.method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read(300).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(600).decode(errors="replace")
