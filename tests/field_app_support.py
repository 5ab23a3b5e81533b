"""The field app's build for the tests that serve it: web/dist/field/ is built once per session
(npm ci + vite build through the venv's Node) when it is missing; `make test` builds it beforehand."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
FIELD_DIST = WEB / "dist" / "field"
NPM = Path(sys.executable).parent / "npm"


def npm(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(NPM), "--prefix", str(WEB), *args], cwd=WEB, capture_output=True, text=True, timeout=timeout
    )


def npx(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(NPM.parent / "npx"), *args], cwd=WEB, capture_output=True, text=True, timeout=timeout)


def ensure_node_modules() -> None:
    """`npm ci` from the lock when web/node_modules is missing (make install has usually done it)."""
    if not (WEB / "node_modules" / ".package-lock.json").exists():
        installed = npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
        assert installed.returncode == 0, installed.stderr[-3000:]


def ensure_field_app_built() -> Path:
    """The built app's folder; builds it (installing the locked packages first) when it is missing."""
    if not (FIELD_DIST / "index.html").exists() or not (FIELD_DIST / "sw.js").exists():
        ensure_node_modules()
        built = npm("run", "build")
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return FIELD_DIST
