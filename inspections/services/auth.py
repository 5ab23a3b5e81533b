"""Sign-in: JWT access and refresh tokens (PyJWT), Django's password hashing, and login throttling
per username and per client IP (counted in the cache, so every API process shares it)."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.utils.translation import gettext as _

from backend.cache import cache_quietly
from backend.exceptions import ApplicationError, ThrottledError

User = get_user_model()
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _encode(*, user_id: int, token_type: str, lifetime) -> str:
    now = datetime.now(tz=UTC)
    claims = {
        "sub": str(user_id),
        "type": token_type,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM)


def token_decode(*, token: str, expected_type: str) -> int | None:
    """The user id carried by a valid, unexpired token of the expected type, else None."""
    try:
        claims = jwt.decode(
            token, settings.JWT_SIGNING_KEY, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("type") != expected_type:
        return None
    try:
        return int(claims["sub"])
    except (TypeError, ValueError):
        return None


def token_pair_for(*, user) -> TokenPair:
    return TokenPair(
        access=_encode(user_id=user.pk, token_type="access", lifetime=settings.JWT_ACCESS_LIFETIME),
        refresh=_encode(user_id=user.pk, token_type="refresh", lifetime=settings.JWT_REFRESH_LIFETIME),
    )


def _failure_keys(username: str, ip: str) -> list[str]:
    user_key = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{user_key}", f"login-fail:ip:{ip}"]


# The failure counters live in the shared cache. If it cannot be reached, sign-in goes on without
# them (logged by cache_quietly): refusing every sign-in while Redis is down would lock the
# inspectors out, and PBKDF2's cost still slows guessing.
def _throttle_check(keys: list[str]) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    counts = cache_quietly(lambda: cache.get_many(keys), {})
    for key in keys:
        failures = counts.get(key) or 0
        if failures >= settings.LOGIN_MAX_FAILURES:
            raise ThrottledError(_("Too many failed sign-in attempts. Try again later."), retry_after=window)


def _failure_record(keys: list[str]) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS

    def count(key: str) -> None:
        if cache.add(key, 1, timeout=window):
            return
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)

    for key in keys:
        cache_quietly(lambda key=key: count(key), None)


def login_obtain_tokens(*, username: str, password: str, ip: str) -> tuple[object, TokenPair]:
    """Check the credentials and issue a token pair. Repeated failures for a username or from
    an IP are refused with 429 for LOGIN_FAILURE_WINDOW_SECONDS, whatever the password."""
    keys = _failure_keys(username, ip)
    _throttle_check(keys)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        _failure_record(keys)
        raise ApplicationError(_("Wrong username or password."), code="invalid_credentials", status=401)
    cache_quietly(lambda: cache.delete(keys[0]), None)  # a success clears the username's count, not the IP's
    return user, token_pair_for(user=user)


def login_refresh(*, refresh: str) -> str:
    """A new access token for a valid refresh token of an active user."""
    user_id = token_decode(token=refresh, expected_type="refresh")
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise ApplicationError(_("The refresh token is invalid or has expired."), code="invalid_token", status=401)
    return _encode(user_id=user.pk, token_type="access", lifetime=settings.JWT_ACCESS_LIFETIME)
