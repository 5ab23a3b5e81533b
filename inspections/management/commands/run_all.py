"""`make run`: the API under gunicorn, a Celery worker and Celery beat, stopped together by Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the API and dashboard (gunicorn), and run the Celery worker and beat, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        # Processes and threads: backend/gunicorn.conf.py (WEB_CONCURRENCY, WEB_THREADS).

    def handle(self, *args, port: int, **options):
        bin_dir = os.path.dirname(sys.executable)
        processes = {
            "web": [
                os.path.join(bin_dir, "gunicorn"),
                "--config",
                str(settings.BASE_DIR / "backend" / "gunicorn.conf.py"),
                "backend.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
            ],
            "worker": [
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
            ],
            "beat": [
                os.path.join(bin_dir, "celery"),
                "-A",
                "backend",
                "beat",
                "-l",
                "info",
                "--schedule",
                str(settings.VAR_DIR / "celerybeat-schedule"),
            ],
        }
        children = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in processes.items()}
        self.stdout.write(self.style.SUCCESS(f"\nJawla is up: http://127.0.0.1:{port}/"))
        self.stdout.write(f"  API docs:  http://127.0.0.1:{port}/api/v1/docs")
        self.stdout.write(f"  Dashboard: http://127.0.0.1:{port}/dashboard/")
        self.stdout.write(f"  Admin:     http://127.0.0.1:{port}/admin/")
        self.stdout.write(
            f"  Demo logins (password {settings.DEMO_PASSWORD}): admin, leader, supervisor_dammam, "
            "inspector_dammam, inspector_khobar\n  Ctrl-C stops everything.\n"
        )
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with {child.returncode}; stopping the rest")
                        stopping = True
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            deadline = time.time() + 15
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
