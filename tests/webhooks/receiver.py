"""A real HTTP receiver on 127.0.0.1 for webhook tests: it records every request and answers
with the status codes it is told to.

    with Receiver() as receiver:          # started on a free port, stopped at the end
        receiver.answers.extend([500])    # the next request gets 500, later ones `default`
        ... receiver.url ...              # http://127.0.0.1:<port>/hook
        [first] = receiver.wait_for(1)    # blocks until one request came (or fails)
        first.body, first.headers["webhook-id"], first.json()

`requests` is the list of what came, in order; `answers` a queue of statuses, one taken per
request; `default` answers when it is empty (200); `delay` seconds to wait before answering
(for timeouts). Safe to use from a worker in another thread or process: it only listens.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    #: Header names in lower case (as Standard Webhooks' verify reads them).
    headers: dict[str, str]
    body: bytes
    #: The status the receiver answered with.
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    path: str = "/hook"
    default: int = 200
    delay: float = 0.0
    answers: deque[int] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the receiver first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                receiver._handle(self)

            do_GET = do_PUT = do_DELETE = do_POST  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows what matters

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first `count` requests, once they came; AssertionError after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.requests)} request(s) reached the receiver, not {count}"
                    )
                self._arrived.wait(left)
            return list(self.requests[:count])

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._arrived:
            status = self.answers.popleft() if self.answers else self.default
            self.requests.append(
                Received(
                    method=handler.command,
                    path=handler.path,
                    headers={name.lower(): value for name, value in handler.headers.items()},
                    body=body,
                    status=status,
                )
            )
            self._arrived.notify_all()
        if self.delay:
            time.sleep(self.delay)
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        except OSError:
            pass  # the sender gave up waiting (a timeout test)
