"""The Content-Security-Policy (served by django-csp): our own origin for scripts, styles, workers and
data, nothing inline, no framing. The map tile server (MAP_TILE_URL) is the one outside origin pages may
load images from; Firebase's endpoints are allowed for web push only when it is configured."""

from urllib.parse import urlsplit

SELF, NONE = "'self'", "'none'"
FIREBASE_WEB_PUSH = (
    "https://fcm.googleapis.com",
    "https://fcmregistrations.googleapis.com",
    "https://firebaseinstallations.googleapis.com",
)


def tile_origin(map_tile_url: str) -> str | None:
    """The origin of a Leaflet tile URL template (`https://{s}.tile.example.org/{z}/{x}/{y}.png` gives
    `https://*.tile.example.org`), or None when there is none or it is not http(s)."""
    if not map_tile_url:
        return None
    parts = urlsplit(map_tile_url.replace("{s}", "*"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    if "{" in host:  # another placeholder in the host: allow its subdomains
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def content_security_policy(*, map_tile_url: str = "", web_push: bool = False, report_only: bool = False) -> dict:
    """django-csp 4's CONTENT_SECURITY_POLICY (or _REPORT_ONLY) setting."""
    tiles = [origin] if (origin := tile_origin(map_tile_url)) else []
    push = list(FIREBASE_WEB_PUSH) if web_push else []
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF],
            "img-src": [SELF, "data:", "blob:", *tiles],
            "font-src": [SELF, "data:"],
            "connect-src": [SELF, *tiles, *push],
            "worker-src": [SELF],
            "manifest-src": [SELF],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        }
    }
