"""Sign-in and the caller's profile."""

from django.http import HttpRequest
from ninja import Router, Status

from backend.api_basics import ERRORS, ErrorOut
from backend.client_ip import client_ip
from inspections.api.schemas.auth import AccessOut, MeOut, RefreshIn, TokenIn, TokenOut, user_out
from inspections.services.auth import login_logout, login_obtain_tokens, login_refresh

router = Router(tags=["auth"])


@router.post("auth/token", auth=None, response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut})
def token_obtain(request: HttpRequest, body: TokenIn):
    """Exchange a username and password for an access token (short-lived) and a refresh token.

    429 with `Retry-After` after 5 wrong passwords for one username from one client (or 30 for any
    usernames from one client) within 15 minutes, or after 5 sign-ins of one user (30 from one client)
    within 10 minutes; the figures are settings (LOGIN_MAX_FAILURES, TOKEN_ISSUE_MAX_PER_USER, ...)."""
    user, pair = login_obtain_tokens(
        request=request, username=body.username, password=body.password, ip=client_ip(request)
    )
    return TokenOut(access=pair.access, refresh=pair.refresh, user=user_out(user))


@router.post("auth/refresh", auth=None, response={200: AccessOut, 401: ErrorOut, 422: ErrorOut})
def token_refresh(request: HttpRequest, body: RefreshIn):
    """A new access token and a new refresh token; the refresh token sent is spent.

    Keep the new refresh token: sending a spent one again is taken as theft and signs out every
    device of that sign-in (401). A refresh token also stops working after logout, a password
    change, a deactivation or the removal of the user's membership."""
    pair = login_refresh(refresh=body.refresh)
    return AccessOut(access=pair.access, refresh=pair.refresh)


@router.post("auth/logout", auth=None, response={204: None, 401: ErrorOut, 422: ErrorOut})
def logout(request: HttpRequest, body: RefreshIn):
    """Sign out: revoke the refresh token and every token rotated from the same sign-in. Idempotent.
    The access token in hand stays valid until it expires (at most JWT_ACCESS_SECONDS, 15 minutes)."""
    login_logout(refresh=body.refresh)
    return Status(204, None)


@router.get("me", response={200: MeOut, **ERRORS})
def me(request: HttpRequest):
    """The caller's profile, role and scope."""
    return MeOut.for_user(request.user)
