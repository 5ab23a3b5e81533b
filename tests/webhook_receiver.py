"""A webhook receiver on 127.0.0.1 for the tests: verifies every request with the `standardwebhooks`
package (not our signing code), fails the first `fail_first` requests with 500, then accepts and
records each message id (a receiver dedupes by id; we count to prove it never needs to)."""

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.process_support import free_port


class Receiver:
    def __init__(self, secret: str = "", fail_first: int = 0):
        self.secret = secret
        self.fail_first = fail_first
        self.requests = 0
        self.accepted: Counter[str] = Counter()
        self.bad_signatures = 0
        self.bodies: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.port = free_port(8600, 8699)
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/jawla"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {key.lower(): value for key, value in self.headers.items()}
                with receiver.lock:
                    receiver.requests += 1
                    failing = receiver.requests <= receiver.fail_first
                    try:
                        payload = Webhook(receiver.secret).verify(body, headers)
                    except WebhookVerificationError:
                        receiver.bad_signatures += 1
                        self.send_response(401)
                        self.end_headers()
                        return
                    if not failing:
                        receiver.accepted[headers["webhook-id"]] += 1
                        receiver.bodies[headers["webhook-id"]] = payload
                self.send_response(500 if failing else 204)
                self.end_headers()

        return Handler

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
