"""The client's IP address, read through a configured number of trusted reverse proxies.

Behind nginx (deploy/nginx/jawla.conf) and perhaps a load balancer, REMOTE_ADDR is the last proxy,
so counting sign-in failures by it would put every client in one bucket. Each proxy appends the
address it received the request from to X-Forwarded-For; only the last TRUSTED_PROXY_COUNT entries
were written by proxies we run, anything to their left is whatever the client sent (spoofable).
So the client is the entry TRUSTED_PROXY_COUNT places from the right; with no trusted proxy (the
default) the header is ignored altogether.

Not django-ipware: its `proxy_count` (8.0, both algorithms) counts from the left or requires an exact
chain length, so a client that prepends addresses either chooses its own bucket or lands in the
proxy's (tests/test_signin_throttle.py pins the behaviour we need).
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent `request` (also django-axes' AXES_CLIENT_IP_CALLABLE)."""
    # No usable REMOTE_ADDR (a request built in code, e.g. Django's test client's force_login): the
    # unspecified address, which the database's inet columns accept, rather than a word they refuse.
    peer = _valid(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",")]
    if len(hops) < proxies:  # did not come through all our proxies: the peer is the client
        return peer
    return _valid(hops[-proxies]) or peer
