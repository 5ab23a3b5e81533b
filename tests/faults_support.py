"""Throwaway services and servers for the fault tests (tests/test_faults_*.py): a private PostgreSQL
cluster (initdb + pg_ctl on port 5433) and a private redis-server (ports 6390-6399) that a test may
stop and restart without touching the machine's shared 5432/6379, and gunicorn subprocesses on
127.0.0.1 (ports 8600-8699)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.process_support import free_port, stop_process_group, wait_for  # noqa: F401 (re-exported)

ROOT = Path(__file__).resolve().parent.parent


def pg_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


class PrivatePostgres:
    """initdb + pg_ctl in a temp folder owned by the `postgres` user (initdb refuses root)."""

    def __init__(self, port: int = 5433):
        self.port = port
        self.bin = pg_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="jawla-fault-pg-"))
        self.data = self.folder / "data"

    @staticmethod
    def available() -> bool:
        return pg_bin() is not None and (os.geteuid() != 0 or shutil.which("runuser") is not None)

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="postgres", group="postgres")
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
        )
        self._ctl("start")
        self._as_postgres(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "jawla_fault")

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-c fsync=off -c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            "30",
            action,
            *extra,
        )

    def restart(self) -> None:
        """Crash and start again: SIGQUIT to the postmaster is PostgreSQL's immediate shutdown (every
        backend dies at once, in-flight transactions are lost), sent directly so that it lands at the
        chosen instant rather than after pg_ctl's own start-up."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        self._ctl("start")

    def stop(self) -> None:
        if self.data.exists():
            self._ctl("stop", "-m", "immediate") if (self.data / "postmaster.pid").exists() else None
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/jawla_fault"


class PrivateRedis:
    def __init__(self, port: int):
        self.port = port
        self.folder = tempfile.mkdtemp(prefix="jawla-fault-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
            + ["--appendonly", "no", "--dir", self.folder],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)

        def pings():
            try:
                return client.ping()
            except redis.RedisError:
                return False

        assert wait_for(pings, timeout=10), "redis-server did not start"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def service_env(**overrides: str) -> dict[str, str]:
    """The environment of a server/worker subprocess: the real settings (not the pytest ones)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        CELERY_TASK_ALWAYS_EAGER="false",
        PUSH_BACKEND="console",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


class Gunicorn:
    def __init__(self, env: dict[str, str], port: int, log_path: Path, workers: int = 2):
        self.env, self.port, self.log_path, self.workers = env, port, log_path, workers
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/"

    def start(self) -> None:
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "backend.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
            + ["--workers", str(self.workers), "--timeout", "60", "--graceful-timeout", "3"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def up():
            try:
                return request("GET", self.base + "health", timeout=2)[0] in (200, 503)
            except OSError:
                return False

        assert wait_for(up, timeout=30), self.log_path.read_text()[-3000:]

    def stop(self) -> None:
        stop_process_group(self.process, timeout=10)
        if getattr(self, "log", None):
            self.log.close()


def request(method: str, url: str, body=None, token: str | None = None, timeout: float = 60):
    """(status, parsed JSON body or raw text) over real HTTP."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")
