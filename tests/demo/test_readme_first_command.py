"""The README's first command, as a newcomer runs it in a fresh clone: install, migrate, build the
demo clinic, serve. Then sign in with a login it printed and read what the demo holds.

Slow (a fresh virtual environment; pip may use its cache) and SQLite only: the command itself
makes its SQLite database under `instance/`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
#: Installing into a fresh environment takes a minute or two with a warm pip cache.
DEADLINE_SECONDS = 900

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="the README command runs on SQLite"
)


def first_sh_block(readme: str) -> str:
    match = re.search(r"```sh\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md has no ```sh block"
    return match.group(1).strip()


def fresh_clone(target: Path) -> None:
    """The files a clone has: tracked ones, and new ones not ignored (work not yet committed)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    fresh_clone(tmp_path)
    yield tmp_path


def test_the_readme_first_command_serves_a_demo_clinic_a_printed_login_can_explore(
    clone: Path,
) -> None:
    command = first_sh_block((clone / "README.md").read_text())
    assert command.count("&&") == 4 and "\n" not in command  # one line, as a reader copies it
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEHEALTH_", "DATABASE_", "TEST_", "TASK_", "FLASK_", "VIRTUAL_"))
    }
    # `serve --port` read from the environment (click's FLASK_ prefix): the command stays as
    # written. The clone's own instance/ holds the database, keys and queue.
    env["FLASK_SERVE_PORT"] = str(port)
    output = clone / "output.log"
    started = time.monotonic()
    with output.open("wb") as log:
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=clone,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = None
        while time.monotonic() - started < DEADLINE_SECONDS:
            assert process.poll() is None, output.read_text()[-3000:]
            try:
                ready = requests.get(f"{base}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(1)
        assert ready is not None and ready.status_code == 200, output.read_text()[-3000:]
        served_after = time.monotonic() - started
        printed = output.read_text()
        login = re.search(r"clinician\s+(\S+@\S+)", printed)
        password = re.search(r"the password of each: (\S+)\)", printed)
        assert login and password, printed[-3000:]

        tokens = requests.post(
            f"{base}/api/v1/auth/login",
            json={"email": login.group(1), "password": password.group(1)},
            timeout=10,
        )
        assert tokens.status_code == 200, tokens.text
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        alerts = requests.get(
            f"{base}/api/v1/alerts", params={"status": "all"}, headers=headers, timeout=10
        ).json()["items"]
        assert alerts
        patient = alerts[0]["patient_id"]
        outcomes = requests.get(
            f"{base}/api/v1/patients/{patient}/outcomes", headers=headers, timeout=10
        ).json()
        assert outcomes["PHQ-9"]["series"]
        export = requests.get(
            f"{base}/api/v1/patients/{patient}/export", headers=headers, timeout=60
        ).json()
        assert export["checkins"] and export["sessions"] and export["alerts"]
        print(f"README first command: serving after {served_after:.0f} s")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
