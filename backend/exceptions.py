"""One application error, mapped to a 4xx JSON answer in one place (backend/api.py)."""

from typing import Any


class ApplicationError(Exception):
    """A rule was broken by the caller's input. `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(
        self, message: str, *, code: str = "invalid", status: int | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}


class ValidationFailedError(ApplicationError):
    """422 for one input the schema let through but a rule refuses, with the field's place in the
    request (`loc`, e.g. ["query", "from"]) as the schema's own errors give it; `msg` says why, for
    machines (defaults to the message)."""

    status = 422

    def __init__(self, message: str, *, loc: list[str], msg: str | None = None, **kwargs: Any):
        error = {"loc": loc, "msg": msg or message, "type": "value_error"}
        super().__init__(message, code="validation_error", extra={"errors": [error]}, **kwargs)


class NotFoundError(ApplicationError):
    status = 404

    def __init__(self, message: str = "Not found.", **kwargs: Any):
        super().__init__(message, code=kwargs.pop("code", "not_found"), **kwargs)


class PermissionDeniedError(ApplicationError):
    status = 403

    def __init__(self, message: str = "You do not have permission to do this.", **kwargs: Any):
        super().__init__(message, code=kwargs.pop("code", "forbidden"), **kwargs)


class ThrottledError(ApplicationError):
    status = 429

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any):
        super().__init__(message, code="throttled", **kwargs)
        self.retry_after = retry_after
