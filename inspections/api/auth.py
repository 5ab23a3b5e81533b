"""Sign-in and the caller's profile."""

from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel, ConfigDict, Field

from backend.api import ERRORS, ErrorOut
from inspections.schemas import MeOut, UserOut, user_out
from inspections.services.auth import login_obtain_tokens, login_refresh

router = Router(tags=["auth"])


class TokenIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access: str
    refresh: str
    user: UserOut


class RefreshIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    refresh: str = Field(min_length=1, max_length=4096)


class AccessOut(BaseModel):
    access: str


def client_ip(request: HttpRequest) -> str:
    # Behind a trusted proxy (NINJA_NUM_PROXIES / the load balancer) REMOTE_ADDR is set by it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@router.post("auth/token", auth=None, response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut})
def token_obtain(request: HttpRequest, body: TokenIn):
    """Exchange a username and password for an access token (short-lived) and a refresh token."""
    user, pair = login_obtain_tokens(username=body.username, password=body.password, ip=client_ip(request))
    return TokenOut(access=pair.access, refresh=pair.refresh, user=user_out(user))


@router.post("auth/refresh", auth=None, response={200: AccessOut, 401: ErrorOut, 422: ErrorOut})
def token_refresh(request: HttpRequest, body: RefreshIn):
    """A new access token for a valid refresh token."""
    return AccessOut(access=login_refresh(refresh=body.refresh))


@router.get("me", response={200: MeOut, **ERRORS})
def me(request: HttpRequest):
    """The caller's profile, role and scope."""
    return MeOut.for_user(request.user)
