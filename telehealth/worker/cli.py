"""`flask --app wsgi worker`: the background worker and its scheduler."""

from __future__ import annotations

import logging
import subprocess
import sys

import click
from flask.cli import ScriptInfo
from werkzeug.serving import run_simple

from telehealth.worker import tasks
from telehealth.worker.queue import huey


@click.command("worker")
@click.option("--threads", type=int, default=None, help="Tasks run at once (WORKER_THREADS).")
@click.pass_obj
def worker(info: ScriptInfo, threads: int | None) -> None:
    """Run the background worker: deliveries (inbox, email, webhooks), escalation, overdue
    checkpoints, reminders and the sweep. Run as many as you like, on as many machines, against
    one database and one queue (REDIS_URL)."""
    app = info.load_app()
    tasks.bind(app)
    logging.getLogger("huey").setLevel(app.config["LOG_LEVEL"])
    consumer = huey.create_consumer(
        workers=threads or app.config["WORKER_THREADS"],
        worker_type="thread",
        periodic=True,
        # Poll an idle SQLite queue at least every half second (Redis wakes a worker at once).
        max_delay=0.5,
        check_worker_health=True,
    )
    consumer.run()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.pass_obj
def serve(info: ScriptInfo, host: str, port: int) -> None:
    """Serve the API for development together with one background worker (escalation, email,
    webhooks, reminders), and stop the worker when the server stops. Production runs gunicorn
    and `flask --app wsgi worker` separately, as many of each as it needs."""
    app = info.load_app()
    worker_process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"])
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        worker_process.terminate()
        try:
            worker_process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker_process.kill()
