"""`make run`: the API under gunicorn, a Celery worker and Celery beat, stopped together by Ctrl-C.

What it promises (tests/test_run_all.py runs it for real):
- a port that is already taken is reported with what holds it, before anything starts;
- "Jawla is up" is printed only once the API answers on the port;
- Ctrl-C (or SIGTERM) stops every process in a few seconds with a message: each program gets the
  stop signal it handles itself (gunicorn's master stops its workers, Celery's master its pool), and
  whatever is still running after STOP_GRACE_SECONDS is killed;
- nothing outlives it: each child asks the kernel for SIGTERM when this process dies (Linux
  PR_SET_PDEATHSIG), and this process asks the same of its own parent (`uv run`, make), so an IDE's
  stop button or a CI timeout that kills make's process group leaves no server holding the port.

To run one more program alongside, add it to `programs()`; the web clients need none (whitenoise
serves their built files from the API process).
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import NamedTuple

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inspections.demo.records import demo_is_present

try:  # a development dependency: names what holds a taken port; without it the pid stays unnamed
    import psutil
except ImportError:  # pragma: no cover - production installs leave out the dev group
    psutil = None

STOP_GRACE_SECONDS = 12  # an idle stop takes 1-3 s; a busy worker first finishes its running tasks
READY_TIMEOUT_SECONDS = 120  # the first start on a cold, busy machine
PR_SET_PDEATHSIG = 1


class Program(NamedTuple):
    command: list[str]
    stop_signal: int = signal.SIGTERM  # the signal the program itself treats as "stop now, cleanly"


def programs(port: int) -> dict[str, Program]:
    """The processes of `make run`, by name."""
    bin_dir = os.path.dirname(sys.executable)
    return {
        "web": Program(
            [
                os.path.join(bin_dir, "gunicorn"),
                "--config",
                str(settings.BASE_DIR / "backend" / "gunicorn.conf.py"),
                "backend.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
            ],
            signal.SIGINT,  # gunicorn's quick shutdown, as Ctrl-C on gunicorn alone; TERM waits for keep-alives
        ),
        "worker": Program(
            [
                os.path.join(bin_dir, "celery"),
                "-A",
                "backend",
                "worker",
                "-l",
                "info",
                "-c",
                "2",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ]
        ),  # SIGTERM: Celery's warm shutdown (backend/celery.py makes an idle worker leave at once)
        "beat": Program(
            [
                os.path.join(bin_dir, "celery"),
                "-A",
                "backend",
                "beat",
                "-l",
                "info",
                "--schedule",
                str(settings.VAR_DIR / "celerybeat-schedule"),
            ]
        ),
    }


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send `sig` to this process when its parent dies (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _child_setup(parent_pid: int):
    def setup() -> None:  # runs in the child between fork and exec
        die_with_parent()
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return setup


def port_holder(port: int, host: str = "127.0.0.1") -> str | None:
    """None when `host:port` can be bound (as gunicorn binds it); otherwise what holds it, in words."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError:
            pass
        else:
            return None
    return _describe_listener(port) or "another program (run `ss -ltnp` to see which)"


def _describe_listener(port: int) -> str | None:
    if psutil is None:
        return None
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    for connection in connections:
        if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
            if connection.pid is None:
                return "a process of another user"
            try:
                process = psutil.Process(connection.pid)
                command = " ".join(process.cmdline()) or process.name()
            except psutil.Error:
                return f"pid {connection.pid}"
            leftover = f" (a Jawla server left running: `kill {connection.pid}` stops it)"
            return f"pid {connection.pid}: {command[:160]}{leftover if 'backend.wsgi' in command else ''}"
    return None


def _api_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer (503 when a dependency is down) means the API is serving
    except (OSError, ValueError):
        return False


class Command(BaseCommand):
    help = (
        "Serve the API and dashboard (gunicorn), and run the Celery worker and beat, until Ctrl-C. "
        "Refuses to start when the port is taken, saying what holds it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        # Processes and threads: backend/gunicorn.conf.py (WEB_CONCURRENCY, WEB_THREADS).

    def handle(self, *args, port: int, **options):
        die_with_parent()  # make or uv killed: stop the children below, as Ctrl-C would
        holder = port_holder(port)
        if holder is not None:
            raise CommandError(
                f"Port {port} is already in use by {holder}. "
                f"Stop it, or start on another port: make run PORT={port + 1}"
            )
        self.stopping, self.stop_requested_at = False, 0.0
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        self.children: dict[str, subprocess.Popen] = {}
        try:
            setup = _child_setup(os.getpid())
            self.programs = programs(port)
            for name, program in self.programs.items():
                # A session of its own: the terminal's Ctrl-C reaches only this process, which stops each
                # child with the signal that child handles as a clean stop.
                self.children[name] = subprocess.Popen(program.command, start_new_session=True, preexec_fn=setup)
            if self._wait_until_ready(port):
                self._banner(port)
                self._watch()
        finally:
            self._stop_all()

    def _request_stop(self, signum, _frame) -> None:
        # A second Ctrl-C: no more waiting. (Within a second it is the same Ctrl-C forwarded by `uv run`.)
        if self.stopping and signum == signal.SIGINT and time.monotonic() - self.stop_requested_at > 1:
            for child in self.children.values():
                _kill_group(child)
        if not self.stopping:
            self.stopping, self.stop_requested_at = True, time.monotonic()

    def _exited(self) -> str | None:
        for name, child in self.children.items():
            if child.poll() is not None:
                return f"{name} exited with status {child.returncode}"
        return None

    def _wait_until_ready(self, port: int) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self.stopping:
            if exited := self._exited():
                self.stderr.write(f"{exited} while starting; stopping the rest.")
                return False
            if _api_answers(port):
                return True
            if time.monotonic() > deadline:
                self.stderr.write(f"The API did not answer on port {port} within {READY_TIMEOUT_SECONDS} s; stopping.")
                return False
            time.sleep(0.25)
        return False

    def _banner(self, port: int) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nJawla is up: http://127.0.0.1:{port}/"))
        self.stdout.write(f"  API docs:  http://127.0.0.1:{port}/api/v1/docs")
        self.stdout.write(f"  Dashboard: http://127.0.0.1:{port}/dashboard/")
        self.stdout.write(f"  Admin:     http://127.0.0.1:{port}/admin/")
        if demo_is_present():
            self.stdout.write(
                f"  Demo logins (password {settings.DEMO_PASSWORD}): admin, leader, supervisor_dammam, "
                "inspector_dammam, inspector_khobar"
            )
        else:
            self.stdout.write("  No demo data in this database (see the seed's message above).")
        self.stdout.write("  Ctrl-C stops everything.\n")

    def _watch(self) -> None:
        while not self.stopping:
            if exited := self._exited():
                self.stderr.write(f"{exited}; stopping the rest.")
                return
            time.sleep(0.2)

    def _stop_all(self) -> None:
        running = {name: child for name, child in self.children.items() if child.poll() is None}
        if not running:
            return
        started = time.monotonic()
        self.stdout.write(f"\nStopping Jawla ({', '.join(running)})...")
        for name, child in running.items():
            # The main process only: gunicorn's master stops its workers and Celery's master its pool;
            # signalling the whole group made the pool's processes die under the master ("exited with
            # signal 15") and Celery log it as an error.
            _signal(child, self.programs[name].stop_signal)
        deadline = started + STOP_GRACE_SECONDS
        for name, child in running.items():
            try:
                child.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop within {STOP_GRACE_SECONDS} s: killed.")
            _kill_group(child)  # anything its session left behind
            child.wait()
        self.stdout.write(f"Stopped in {time.monotonic() - started:.1f} s.")


def _signal(child: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, sig)


def _kill_group(child: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
