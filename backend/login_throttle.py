"""django-axes, configured for Jawla: one sign-in throttle for the admin, the dashboard and POST auth/token.

Why a library: django-axes counts failures where Django's `authenticate()` reports them (the
`user_login_failed` signal), so every sign-in form is covered by the same rule without a counter per
view; it keeps its records in the database (one shared, exact window for every process), ships an
admin to inspect and reset lockouts, and `manage.py axes_reset` for support.

What is locked (settings.AXES_LOCKOUT_PARAMETERS):
- a username from one client, after LOGIN_MAX_FAILURES failures: whoever guesses a user's password
  from elsewhere never locks that user out at their own address;
- a client, after LOGIN_MAX_FAILURES_PER_IP failures across any usernames: guessing many accounts
  from one address (higher, because an office shares one address).
Both last LOGIN_FAILURE_WINDOW_SECONDS after the latest failure (a refused attempt during the lockout
counts as one, so Retry-After is always the whole window).
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with a separate (higher) limit for a client across usernames.

    Axes compares the largest count of its lockout parameters with one limit; here the per-client
    count is compared with LOGIN_MAX_FAILURES_PER_IP and reported as "at the limit" when over it."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        per_username, per_client = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if per_client >= settings.LOGIN_MAX_FAILURES_PER_IP:
            return max(per_username, settings.LOGIN_MAX_FAILURES)
        return per_username


def retry_after_seconds() -> int:
    return settings.LOGIN_FAILURE_WINDOW_SECONDS


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the API already answered its JSON 429; the admin and dashboard get a page."""
    if request.path.startswith("/api/") and original_response is not None:
        return original_response
    response = render(
        request,
        "analytics/login_locked.html",
        {"minutes": retry_after_seconds() // 60, "message": _("Too many failed sign-in attempts. Try again later.")},
        status=429,
    )
    response["Retry-After"] = str(retry_after_seconds())
    return response
