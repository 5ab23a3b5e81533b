"""A local fake of Google's OAuth token endpoint and FCM v1 `messages:send`, on 127.0.0.1.

firebase-admin runs for real against it: it signs a JWT with the service account's RSA key,
exchanges it at `token_uri` (our /token), then POSTs each message to FCM_URL (our
/v1/projects/{project}/messages:send). Only two things are redirected, here in test code:
`_MessagingService.FCM_URL` and google-auth's regional access boundary lookup (which would call
Google after each token refresh).

The fake checks each message's shape and answers per token: success by default; a token in
`dead` gets UNREGISTERED (404); `script[token]` is a list of answers used one per request
("unavailable" → 503 UNAVAILABLE, "quota" → 429 QUOTA_EXCEEDED, "internal" → 500,
"invalid_token" → 400 INVALID_ARGUMENT on message.token, "ok"); `delay[token]` holds the answer
for that many seconds (and sets `request_seen`), to kill a worker mid-send.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests import process_support

ACCESS_TOKEN = "fake-access-token-for-tests"
PROJECT_ID = "jawla-test"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # google-auth's `aud`, whatever token_uri is

ERRORS = {
    "unregistered": (404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
    "unavailable": (503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."),
    "quota": (429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded for sending messages."),
    "internal": (500, "INTERNAL", "INTERNAL", "Internal error encountered."),
    "invalid_token": (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not a valid FCM token"),
    "invalid_payload": (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload received."),
}


def free_port(start: int, end: int = 8499) -> int:
    """The first free port in [start, end] (the notifications tests' range is 8400-8499)."""
    return process_support.free_port(start, end)


@dataclass
class FakeFCM:
    port: int
    dead: set[str] = field(default_factory=set)
    script: dict[str, list[str]] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    received: list[dict] = field(default_factory=list)  # every well-formed message, in arrival order
    accepted: list[dict] = field(default_factory=list)  # messages answered with success
    shape_errors: list[str] = field(default_factory=list)
    token_requests: int = 0
    public_pem: str = ""
    request_seen: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def fcm_url_template(self) -> str:
        return self.base_url + "/v1/projects/{0}/messages:send"

    def accepted_tokens(self) -> list[str]:
        with self.lock:
            return [m.get("token") or m.get("fid") for m in self.accepted]

    def received_tokens(self) -> list[str]:
        with self.lock:
            return [m.get("token") or m.get("fid") for m in self.received]

    # --- checks ---------------------------------------------------------------------------------
    def check_shape(self, body: dict) -> str | None:
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict):
            return "no message object"
        targets = [key for key in ("token", "fid", "topic", "condition") if key in message]
        if len(targets) != 1 or targets[0] not in ("token", "fid") or not message[targets[0]]:
            return f"expected exactly one device target, got {targets}"
        notification = message.get("notification") or {}
        if not (isinstance(notification.get("title"), str) and notification["title"]):
            return "notification.title missing"
        if not (isinstance(notification.get("body"), str) and notification["body"]):
            return "notification.body missing"
        data = message.get("data") or {}
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            return "data values must be strings"
        for key in ("kind", "notification_id"):
            if key not in data:
                return f"data.{key} missing"
        android = message.get("android") or {}
        if not android.get("collapse_key"):
            return "android.collapse_key missing"
        return None

    def answer_for(self, token: str) -> str:
        with self.lock:
            if token in self.dead:
                return "unregistered"
            queue = self.script.get(token)
            if queue:
                return queue.pop(0)
        return "ok"


def _handler(fake: FakeFCM):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path == "/token":
                return self._token(raw)
            if self.path.startswith("/v1/projects/") and self.path.endswith("/messages:send"):
                return self._send_message(raw)
            return self._send(404, {"error": {"status": "NOT_FOUND", "message": self.path}})

        def _token(self, raw: bytes):
            form = dict(part.split("=", 1) for part in raw.decode().split("&") if "=" in part)
            assertion = form.get("assertion", "")
            if "jwt-bearer" not in form.get("grant_type", "") or assertion.count(".") != 2:
                return self._send(400, {"error": "invalid_grant"})
            if fake.public_pem:  # the JWT must be signed by the service account's key, for us
                import jwt

                try:
                    claims = jwt.decode(
                        assertion, fake.public_pem, algorithms=["RS256"], audience=GOOGLE_TOKEN_AUDIENCE
                    )
                except jwt.PyJWTError as error:
                    return self._send(400, {"error": "invalid_grant", "error_description": str(error)})
            else:
                claims = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
            if not claims.get("iss") or "auth/cloud-platform" not in claims.get("scope", ""):
                return self._send(400, {"error": "invalid_scope"})
            with fake.lock:
                fake.token_requests += 1
            return self._send(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})

        def _send_message(self, raw: bytes):
            if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                return self._send(401, {"error": {"status": "UNAUTHENTICATED", "message": "bad token"}})
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            problem = fake.check_shape(body)
            if problem:
                with fake.lock:
                    fake.shape_errors.append(problem)
                return self._send(400, {"error": {"status": "INVALID_ARGUMENT", "message": problem}})
            message = body["message"]
            token = message.get("token") or message.get("fid")
            with fake.lock:
                fake.received.append(message)
                wait = fake.delay.pop(token, 0)
            if wait:
                fake.request_seen.set()
                time.sleep(wait)
            answer = fake.answer_for(token)
            if answer == "ok":
                with fake.lock:
                    fake.accepted.append(message)
                    number = len(fake.accepted)
                return self._send(200, {"name": f"projects/{PROJECT_ID}/messages/{number}"})
            status, rpc_status, fcm_code, text = ERRORS[answer]
            details = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
            if answer == "invalid_token":
                details.append(
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}],
                    }
                )
            return self._send(
                status, {"error": {"code": status, "message": text, "status": rpc_status, "details": details}}
            )

    return Handler


class FakeFCMServer:
    """Runs a FakeFCM in a thread: `with FakeFCMServer(port) as fake: ...`."""

    def __init__(self, port: int):
        self.fake = FakeFCM(port=port)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.fake))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeFCM:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def write_service_account(path: Path, *, fake: FakeFCM) -> Path:
    """A service-account JSON with a freshly generated RSA key whose token_uri is the fake (which
    then checks the JWT's signature with the public half)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    fake.public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    token_uri = fake.base_url + "/token"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT_ID,
                "private_key_id": "test-key-1",
                "private_key": pem,
                "client_email": f"firebase-adminsdk@{PROJECT_ID}.iam.gserviceaccount.com",
                "client_id": "1234567890",
                "auth_uri": "http://127.0.0.1/unused",
                "token_uri": token_uri,
            }
        )
    )
    return path


def point_firebase_at(fcm_url_template: str) -> None:
    """Test-only redirections: FCM's URL, and no regional access boundary lookup at Google."""
    from firebase_admin import messaging
    from google.oauth2 import service_account

    messaging._MessagingService.FCM_URL = fcm_url_template
    service_account.Credentials._is_regional_access_boundary_lookup_required = lambda self: False


# --- a real Celery worker process for the tests ---------------------------------------------------


def worker_env(*, fake: FakeFCM, credentials_file: Path, broker_url: str, database_url: str) -> dict[str, str]:
    """The environment of a worker subprocess: the test database, the broker, FCM pointed at the fake.
    Without PYTEST_VERSION the worker's settings are the real ones (tasks not inline)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "backend.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PUSH_BACKEND": "fcm",
            "FCM_CREDENTIALS_FILE": str(credentials_file),
            "FAKE_FCM_URL": fake.fcm_url_template,
            "PYTHONUNBUFFERED": "1",
            "LOG_JSON": "false",
        }
    )
    return env


def postgres_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database pytest-django is using (its test database)."""
    from urllib.parse import quote

    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class Worker:
    """`celery -A tests.fake_fcm worker` (the project's app with FCM redirected to the fake) as a
    subprocess in its own process group, so the test can SIGKILL it and its pool children."""

    def __init__(self, env: dict[str, str], log_path: Path, *, concurrency: int = 1):
        import sys

        self.env = env
        self.log_path = log_path
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.fake_fcm",
            "worker",
            "-l",
            "info",
            "-c",
            str(concurrency),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"jawla-test-{id(self)}@%h",
        ]
        self.process = None

    def start(self, timeout: float = 90) -> Worker:
        import subprocess

        root = Path(__file__).resolve().parent.parent
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command, cwd=root, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.output()}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace")[-6000:]

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: nothing gets to clean up."""
        import os
        import signal

        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        process_support.stop_process_group(self.process, timeout=15)
        if getattr(self, "log", None):
            self.log.close()


def wait_for(predicate, timeout: float = 20, interval: float = 0.1):
    return process_support.wait_for(predicate, timeout=timeout, interval=interval)


# `celery -A tests.fake_fcm worker`: the project's Celery app, with FCM pointed at the fake when the
# process's environment says so (test code only; production never sets these variables), and, for
# the embedded-default test, the filesystem broker's folders moved out of var/ into the test's folder.
from backend.celery import app  # noqa: E402


def _configure_test_process() -> None:
    import os

    if os.environ.get("FAKE_FCM_URL"):
        point_firebase_at(os.environ["FAKE_FCM_URL"])
    folder = os.environ.get("TEST_BROKER_FOLDER")
    if folder:
        app.conf.broker_transport_options = filesystem_broker_options(Path(folder))


def filesystem_broker_options(folder: Path) -> dict:
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "polling_interval": 0.2,
    }


_configure_test_process()
