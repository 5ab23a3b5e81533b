"""Sign-in: JWT access tokens (PyJWT) and rotating, revocable refresh tokens (RefreshToken rows).

- Failed sign-ins are throttled by django-axes inside Django's `authenticate()` (see
  backend/login_throttle.py): the same rule for the admin, the dashboard and POST auth/token.
- Successful sign-ins are limited per user and per client (TOKEN_ISSUE_MAX_PER_USER / _PER_CLIENT per
  TOKEN_ISSUE_WINDOW_SECONDS), counted from the refresh-token families they start: a flood of valid
  logins costs a PBKDF2 hash each and would take the CPU from the phones' sync.
- A refresh token is used once: POST auth/refresh rotates it. A used one presented again revokes its
  family; so do logout, a password change, a deactivation and the removal of the membership.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, user_logged_in
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, ThrottledError
from backend.login_throttle import retry_after_seconds
from inspections.models import Membership, RefreshToken

User = get_user_model()
ALGORITHM = "HS256"
Reason = RefreshToken.Reason


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _encode(*, user_id: int, token_type: str, lifetime: timedelta, **extra: str) -> str:
    now = datetime.now(tz=UTC)
    claims = {
        "sub": str(user_id),
        "type": token_type,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
        **extra,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM)


def _claims(token: str, expected_type: str) -> dict | None:
    try:
        claims = jwt.decode(
            token, settings.JWT_SIGNING_KEY, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "jti"]}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("type") != expected_type:
        return None
    try:
        claims["sub"] = int(claims["sub"])
    except (TypeError, ValueError):
        return None
    return claims


def token_decode(*, token: str, expected_type: str) -> int | None:
    """The user id carried by a valid, unexpired token of the expected type, else None."""
    claims = _claims(token, expected_type)
    return claims["sub"] if claims else None


def access_token_for(*, user) -> str:
    return _encode(user_id=user.pk, token_type="access", lifetime=settings.JWT_ACCESS_LIFETIME)


def _refresh_issue(*, user, family: uuid.UUID, is_sign_in: bool, client_ip: str | None) -> str:
    now = timezone.now()
    token = RefreshToken.objects.create(
        jti=uuid.uuid4(),
        family=family,
        user=user,
        is_sign_in=is_sign_in,
        client_ip=client_ip,
        auth_hash=user.get_session_auth_hash(),
        created_at=now,
        expires_at=now + settings.JWT_REFRESH_LIFETIME,
    )
    return jwt.encode(
        {
            "sub": str(user.pk),
            "type": "refresh",
            "iat": int(now.timestamp()),
            "exp": int(token.expires_at.timestamp()),
            "jti": token.jti.hex,
        },
        settings.JWT_SIGNING_KEY,
        algorithm=ALGORITHM,
    )


@transaction.atomic
def token_pair_for(*, user, client_ip: str | None = None) -> TokenPair:
    """A new sign-in for `user`: an access token and the first refresh token of a new family."""
    refresh = _refresh_issue(user=user, family=uuid.uuid4(), is_sign_in=True, client_ip=_ip_or_none(client_ip))
    return TokenPair(access=access_token_for(user=user), refresh=refresh)


def _ip_or_none(ip: str | None) -> str | None:
    return ip if ip and ip != "unknown" else None


def _issuance_check(**scope) -> None:
    """429 when the sign-ins matching `scope` (user= or client_ip=) in the window reached the limit."""
    window = timedelta(seconds=settings.TOKEN_ISSUE_WINDOW_SECONDS)
    limit = settings.TOKEN_ISSUE_MAX_PER_USER if "user" in scope else settings.TOKEN_ISSUE_MAX_PER_CLIENT
    now = timezone.now()
    recent = RefreshToken.objects.filter(is_sign_in=True, created_at__gt=now - window, **scope)
    created = list(recent.order_by("-created_at").values_list("created_at", flat=True)[:limit])
    if len(created) >= limit:
        # The oldest of the last `limit` sign-ins leaves the window first.
        retry_after = max(1, math.ceil((created[-1] + window - now).total_seconds()))
        raise ThrottledError(_("Too many sign-ins. Try again later."), retry_after=retry_after)


def login_obtain_tokens(*, request: HttpRequest, username: str, password: str, ip: str) -> tuple[object, TokenPair]:
    """Check the credentials and issue a token pair.

    429 when django-axes has locked this username from this client (LOGIN_MAX_FAILURES failures) or this
    client (LOGIN_MAX_FAILURES_PER_IP), whatever the password, or when the user or the client reached
    its sign-in limit. `request` is what django-axes reads the client from."""
    client_ip = _ip_or_none(ip)
    if client_ip is not None:  # before the password hash: the point is to save its CPU
        _issuance_check(client_ip=client_ip)
    refusal: dict = {}
    user = authenticate(request, username=username, password=password, response_context=refusal)
    if refusal.get("error"):  # django-axes refused before checking the password
        raise ThrottledError(_("Too many failed sign-in attempts. Try again later."), retry_after=retry_after_seconds())
    if user is None or not user.is_active:
        raise ApplicationError(_("Wrong username or password."), code="invalid_credentials", status=401)
    _issuance_check(user=user)
    user_logged_in.send(sender=type(user), request=request, user=user)  # last_login, axes' access log
    return user, token_pair_for(user=user, client_ip=client_ip)


def _invalid_refresh() -> ApplicationError:
    return ApplicationError(_("The refresh token is invalid or has expired."), code="invalid_token", status=401)


def _revocation_reason(token: RefreshToken) -> str | None:
    user = token.user
    if token.used_at is not None:
        return Reason.REUSED
    if not user.is_active:
        return Reason.DEACTIVATED
    if token.auth_hash != user.get_session_auth_hash():
        return Reason.PASSWORD_CHANGED
    if not user.is_superuser and not Membership.objects.filter(user_id=user.pk).exists():
        return Reason.MEMBERSHIP_REMOVED
    return None


def _family_revoke(family: uuid.UUID, reason: str) -> None:
    RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def login_refresh(*, refresh: str) -> TokenPair:
    """Rotate a refresh token: a new access token and the family's next refresh token. The token
    presented is spent; presenting it again revokes the family (whoever holds its successor too)."""
    claims = _claims(refresh, "refresh")
    if claims is None:
        raise _invalid_refresh()
    with transaction.atomic():
        token = (
            RefreshToken.objects.select_for_update(of=("self",))  # the token row, not its user's
            .select_related("user")
            .filter(jti=_uuid_or_none(claims["jti"]), user_id=claims["sub"])
            .first()
        )
        if token is None or token.revoked_at is not None:
            raise _invalid_refresh()
        reason = _revocation_reason(token)
        if reason is None:
            token.used_at = timezone.now()
            token.save(update_fields=["used_at"])
            successor = _refresh_issue(user=token.user, family=token.family, is_sign_in=False, client_ip=None)
            return TokenPair(access=access_token_for(user=token.user), refresh=successor)
        _family_revoke(token.family, reason)  # committed: the refusal below must not undo it
    raise _invalid_refresh()


def login_logout(*, refresh: str) -> None:
    """Revoke the family of a refresh token (signing out on that device). Idempotent."""
    claims = _claims(refresh, "refresh")
    token = None
    if claims is not None:
        token = RefreshToken.objects.filter(jti=_uuid_or_none(claims["jti"]), user_id=claims["sub"]).first()
    if token is None:
        raise _invalid_refresh()
    _family_revoke(token.family, Reason.LOGOUT)


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
