"""The reverse proxy shipped in deploy/nginx/jawla.conf (issue 11, item 19), run for real: nginx (Debian's
package) with a throwaway certificate in front of gunicorn (backend/gunicorn.conf.py, one process of two
threads). Twenty slow-header connections, which starve gunicorn when they reach it directly, wait in nginx
while a phone's request is answered; HTTP redirects to HTTPS; the config passes `nginx -t`."""

import datetime
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.process_support import free_port, stop_process_group, wait_for

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "nginx" / "jawla.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="needs nginx (apt-get install nginx-light)")


def _certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jawla.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _render(folder: Path, *, http: int, https: int, upstream: int) -> Path:
    """The shipped server blocks on test ports and a test certificate, inside a minimal nginx.conf."""
    cert, key = _certificate(folder)
    site = CONFIG.read_text()
    replacements = {
        "    listen [::]:80;\n": "",
        "    listen [::]:443 ssl http2;\n": "",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
        "/etc/ssl/jawla/fullchain.pem": str(cert),
        "/etc/ssl/jawla/privkey.pem": str(key),
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/jawla.conf no longer has {old!r}"
        site = site.replace(old, new)
    (folder / "jawla.conf").write_text(site)
    main = folder / "nginx.conf"
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} info;\nworker_processes 1;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n    access_log {folder / 'access.log'};\n{temp}\n"
        f"    include {folder / 'jawla.conf'};\n}}\n"
    )
    return main


def _slow_clients(port: int, count: int, *, tls: bool) -> list[socket.socket]:
    """Connections that send half a request head and then nothing (slowloris)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    sockets = []
    for _ in range(count):
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        conn = context.wrap_socket(raw, server_hostname="jawla.test") if tls else raw
        conn.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: jawla.test\r\nX-Slow: ")
        sockets.append(conn)
    return sockets


def _get(url: str, timeout: float):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.fixture
def stack(tmp_path):
    http, https, app = free_port(8700, 8719), free_port(8720, 8739), free_port(8740, 8759)
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "JAWLA_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "backend/gunicorn.conf.py", "backend.wsgi:application"]
        + ["--bind", f"127.0.0.1:{app}", "--timeout", "30", "--graceful-timeout", "2"],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "gunicorn.log", "w"),  # noqa: SIM115 - the process owns it
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    conf = _render(tmp_path, http=http, https=https, upstream=app)
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "nginx.stderr", "w"),  # noqa: SIM115
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: _up(f"http://127.0.0.1:{app}/api/v1/health"), timeout=30), (
            tmp_path / "gunicorn.log"
        ).read_text()[-2000:]
        assert wait_for(lambda: _up(f"https://127.0.0.1:{https}/api/v1/health"), timeout=15)
        yield {"http": http, "https": https, "app": app}
    finally:
        stop_process_group(nginx, timeout=5)
        stop_process_group(gunicorn, timeout=10)


def _up(url: str) -> bool:
    try:
        return _get(url, timeout=2)[0] == 200
    except OSError:
        return False


def test_slow_clients_wait_in_nginx_not_in_gunicorn(stack):
    # Same run, the baseline: straight at gunicorn, a handful of slow heads take both its threads.
    direct = _slow_clients(stack["app"], 6, tls=False)
    try:
        try:
            starved = _get(f"http://127.0.0.1:{stack['app']}/api/v1/health", timeout=3)[0] != 200
        except OSError:
            starved = True
    finally:
        for conn in direct:
            conn.close()
    print(f"gunicorn alone with 6 slow-header connections: {'starved' if starved else 'still answered'}")
    assert wait_for(lambda: _up(f"http://127.0.0.1:{stack['app']}/api/v1/health"), timeout=30)

    slow = _slow_clients(stack["https"], 20, tls=True)
    try:
        started = time.monotonic()
        status, headers = _get(f"https://127.0.0.1:{stack['https']}/api/v1/health", timeout=10)
        took = time.monotonic() - started
        assert status == 200
        print(f"through nginx with 20 slow-header connections: answered in {took * 1000:.0f} ms")
    finally:
        for conn in slow:
            conn.close()


def test_plain_http_redirects_to_https(stack):
    status, headers = _get(f"http://127.0.0.1:{stack['http']}/api/v1/health", timeout=5)
    assert status == 301 and headers["Location"].startswith("https://")


def test_the_readme_points_at_the_config():
    assert "deploy/nginx/jawla.conf" in (ROOT / "README.md").read_text()
    assert "TRUSTED_PROXY_COUNT" in CONFIG.read_text()
