"""Schemas of the sign-in and `me` endpoints."""

from pydantic import BaseModel, ConfigDict, Field

from inspections.selectors.scope import scope_for


class UserOut(BaseModel):
    id: int
    username: str
    role: str | None
    municipality_ids: list[int]


def user_out(user) -> UserOut:
    scope = scope_for(user)
    return UserOut(
        id=user.pk, username=user.get_username(), role=scope.role, municipality_ids=sorted(scope.municipality_ids)
    )


class MeOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str | None
    municipality_ids: list[int]
    whole_amanah: bool
    national: bool = False
    language: str

    @classmethod
    def for_user(cls, user) -> "MeOut":
        scope = scope_for(user)
        membership = getattr(user, "membership", None)
        return cls(
            id=user.pk,
            username=user.get_username(),
            full_name=user.get_full_name(),
            role=scope.role,
            municipality_ids=sorted(scope.municipality_ids),
            whole_amanah=scope.whole_amanah or scope.everything,
            national=scope.national or scope.everything,
            language=membership.language if membership else "ar",
        )


class TokenIn(BaseModel):
    """Not StrictIn: a password keeps its surrounding spaces (StrictIn strips them)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    # No NUL: PostgreSQL text cannot hold it (the user lookup was a 500); a 422 instead.
    username: str = Field(min_length=1, max_length=150, pattern=r"^[^\x00]+$")
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
    refresh: str
