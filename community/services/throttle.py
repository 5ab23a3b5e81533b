"""Rate limits of public reports, per device and per client IP, in the shared cache (fixed windows).

Every POST counts, accepted or not: a flood of bad requests is as much abuse as a flood of good ones.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from backend.exceptions import ThrottledError

logger = logging.getLogger(__name__)


def _key(kind: str, value: str, window_start: int) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]  # no raw IPs or device ids in cache keys
    return f"community:rate:{kind}:{digest}:{window_start}"


def report_rate_check(*, device_id: str, ip: str) -> None:
    """Count one report attempt; raise ThrottledError (429 + Retry-After) past either limit."""
    window = settings.REPORTS_RATE_WINDOW_SECONDS
    now = int(time.time())
    window_start = now - now % window
    retry_after = max(window_start + window - now, 1)
    limits = [("ip", ip, settings.REPORTS_PER_IP)]
    if device_id:
        limits.append(("device", device_id, settings.REPORTS_PER_DEVICE))
    for kind, value, limit in limits:
        key = _key(kind, value, window_start)
        try:
            cache.add(key, 0, timeout=window + 5)
            count = cache.incr(key)
        except Exception:  # noqa: BLE001 - a cache outage costs the limit, never the citizen's report
            logger.warning("report rate limit skipped: cache unavailable")
            return
        if count > limit:
            raise ThrottledError(
                _("Too many reports; try again in %(seconds)d seconds.") % {"seconds": retry_after},
                retry_after=retry_after,
            )
